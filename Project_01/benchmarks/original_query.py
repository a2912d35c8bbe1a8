"""The original Dataquest/mlops2023 recommender, one query per process (benchmark baseline).

Re-implemented faithfully for ``bench_query.py``: read ``movies.csv`` and the whole
``ratings.csv`` with pandas on every run, pick the title with TF-IDF and an unsorted
``argpartition`` slice, then filter the ratings frame: fans are users who rated the movie
above 4; keep movies more than 10 % of the fans rated above 4; score = fan share /
share among the users who rated any kept movie above 4. Not used by the tool itself.
"""
import argparse
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity


def search(movies: pd.DataFrame, title: str) -> int:
    """The original title search: movieId of the first of an unsorted top-5 slice."""
    movies["clean_title"] = movies["title"].apply(lambda t: re.sub("[^a-zA-Z0-9 ]", "", t))
    vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    tfidf = vectorizer.fit_transform(movies["clean_title"])
    query = vectorizer.transform([re.sub("[^a-zA-Z0-9 ]", "", title)])
    similarity = cosine_similarity(query, tfidf).flatten()
    indices = np.argpartition(similarity, -5)[-5:]
    return movies.iloc[indices].iloc[::-1].iloc[0]["movieId"]


def find_similar_movies(movie_id: int, ratings: pd.DataFrame,
                        movies: pd.DataFrame) -> pd.DataFrame:
    """The original lift score, filtering the whole ratings frame per query."""
    similar_users = ratings[(ratings["movieId"] == movie_id)
                            & (ratings["rating"] > 4)]["userId"].unique()
    similar_user_recs = ratings[(ratings["userId"].isin(similar_users))
                                & (ratings["rating"] > 4)]["movieId"]
    similar_user_recs = similar_user_recs.value_counts() / len(similar_users)
    similar_user_recs = similar_user_recs[similar_user_recs > .10]
    all_users = ratings[(ratings["movieId"].isin(similar_user_recs.index))
                        & (ratings["rating"] > 4)]
    all_user_recs = all_users["movieId"].value_counts() / len(all_users["userId"].unique())
    percentages = pd.concat([similar_user_recs, all_user_recs], axis=1)
    percentages.columns = ["similar", "all"]
    percentages["score"] = percentages["similar"] / percentages["all"]
    top = percentages.sort_values("score", ascending=False).head(10)
    return top.merge(movies, left_index=True, right_on="movieId")[["score", "title", "genres"]]


def main(argv: list[str] | None = None) -> int:
    """Print the recommendations for ``--movie-title`` on ``--data-dir``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True, help="MovieLens folder")
    parser.add_argument("--movie-title", required=True, help="title to search for")
    args = parser.parse_args(argv)
    movies = pd.read_csv(args.data_dir / "movies.csv")
    movie_id = search(movies, args.movie_title)
    ratings = pd.read_csv(args.data_dir / "ratings.csv")
    print(find_similar_movies(movie_id, ratings, movies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
