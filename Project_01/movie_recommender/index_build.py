"""Build the arrays of the binary index from a MovieLens folder (the slow, once-only path).

This is the only module that needs pyarrow (CSV reading) and scikit-learn (fitting the
title TF-IDF); ``index`` imports it only when an index has to be (re)built.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from tqdm import tqdm

from movie_recommender import dataset, liked
from movie_recommender.catalog import Catalog, StringTable
from movie_recommender.content import TagMatrix
from movie_recommender.locations import MOVIES_FILE, RATINGS_FILE, TAGS_FILE
from movie_recommender.title_search import TitleIndex, alias_table, title_features

logger = logging.getLogger(__name__)

BUILD_STEPS = (f"read {MOVIES_FILE}", f"read {RATINGS_FILE}", "fit title search", "fit tags",
               "build model")


def fit_title_index(titles: list[str]) -> TitleIndex:
    """Fit TF-IDF (scikit-learn) on the aliases of ``titles`` and keep it as postings.

    Args:
        titles: MovieLens titles, one per catalogue position.

    Returns:
        The searchable index (vocabulary, idf and a column-major weight matrix).
    """
    aliases, owners = alias_table(titles)
    vectorizer = TfidfVectorizer(analyzer=title_features, dtype=np.float32)
    weights = vectorizer.fit_transform(aliases).tocsc()
    weights.sort_indices()
    return TitleIndex(
        # scikit-learn sorts its vocabulary with sorted(), i.e. in code-point order,
        # which is the order StringTable.find's binary search relies on
        vocabulary=StringTable.from_strings(vectorizer.get_feature_names_out().tolist()),
        idf=vectorizer.idf_.astype(np.float32),
        indptr=weights.indptr.astype(np.int64),
        alias=weights.indices.astype(np.int32),
        weight=weights.data.astype(np.float32),
        alias_movie=owners,
        alias_text=StringTable.from_strings(aliases),
    )


def fit_tag_matrix(items: np.ndarray, tags: list[str], n_movies: int) -> TagMatrix:
    """Fit TF-IDF (scikit-learn) on each movie's set of tags; rows are unit length.

    Each distinct tag is one term ("pixar animation" stays whole); a tag applied by
    several users counts sublinearly more.

    Args:
        items: movie position of each tag application.
        tags: the applied tags (normalised by ``dataset.load_tags``).
        n_movies: number of catalogue positions.
    """
    if not tags:
        return TagMatrix.empty(n_movies)
    documents: list[list[str]] = [[] for _ in range(n_movies)]
    for item, tag in zip(items.tolist(), tags):
        documents[item].append(tag)
    vectorizer = TfidfVectorizer(analyzer=lambda document: document, sublinear_tf=True,
                                 dtype=np.float32)
    weights = vectorizer.fit_transform(documents).tocsr()
    weights.sort_indices()
    return TagMatrix(indptr=weights.indptr.astype(np.int64),
                     term=weights.indices.astype(np.int32),
                     weight=weights.data.astype(np.float32),
                     vocabulary=StringTable.from_strings(
                         vectorizer.get_feature_names_out().tolist()))


def build_arrays(folder: Path, *, progress: bool | None = None) -> dict[str, np.ndarray]:
    """Read ``folder``'s CSVs once and return every array the index stores.

    Keys are prefixed by part: ``catalog.*`` (``Catalog``), ``title.*`` (``TitleIndex``),
    ``tags.*`` (``content.TagMatrix``; empty without ``tags.csv``) and ``model.*``
    (``liked.to_arrays``).

    Args:
        folder: a folder with MovieLens ``movies.csv`` and ``ratings.csv``.
        progress: show a tqdm bar on stderr (None: only when stderr is a terminal).

    Raises:
        DatasetError: when a CSV is missing or breaks the contract.
    """
    dataset.check_folder(folder)
    with tqdm(total=len(BUILD_STEPS), desc="building index", unit="step",
              disable=None if progress is None else not progress) as steps:
        steps.set_postfix_str(BUILD_STEPS[0])
        movies = dataset.load_movies(folder / MOVIES_FILE)
        steps.update()
        steps.set_postfix_str(BUILD_STEPS[1])
        ratings = dataset.load_ratings(folder / RATINGS_FILE, movies.movie_ids)
        catalog = Catalog.from_columns(movies.movie_ids, movies.titles, movies.genres,
                                       np.bincount(ratings.item_idx, minlength=ratings.n_items))
        steps.update()
        steps.set_postfix_str(BUILD_STEPS[2])
        titles = fit_title_index(list(catalog.titles))
        steps.update()
        steps.set_postfix_str(BUILD_STEPS[3])
        if (folder / TAGS_FILE).is_file():
            tags = fit_tag_matrix(*dataset.load_tags(folder / TAGS_FILE, catalog.movie_ids),
                                  len(catalog))
        else:
            tags = TagMatrix.empty(len(catalog))
        steps.update()
        steps.set_postfix_str(BUILD_STEPS[4])
        model = liked.build_model(ratings)
        steps.update()
    logger.info("indexed %d movies, %d ratings, %d users",
                len(catalog), len(ratings.rating), ratings.n_users)
    arrays = {f"catalog.{name}": array for name, array in catalog.to_arrays().items()}
    arrays.update({f"title.{name}": array for name, array in titles.to_arrays().items()})
    arrays.update({f"tags.{name}": array for name, array in tags.to_arrays().items()})
    arrays.update({f"model.{name}": array
                   for name, array in liked.to_arrays(model).items()})
    return arrays
