"""Write a realistic podcast feed (and small audio files) for demos and benchmarks.

The items are modelled on a daily business-news podcast feed such as Marketplace's:
RSS 2.0 with the iTunes and content namespaces, a permalink-less ``<guid>``, an HTML
``<description>`` repeated in ``<content:encoded>`` and ``<itunes:summary>``, a
tracking-prefixed enclosure URL with a query string, ``HH:MM:SS`` durations and
per-item artwork. Text is drawn from a fixed vocabulary with a seeded generator, so
the same arguments always give the same bytes.

    python Project_02/benchmarks/sample_feed.py --items 120 --out /tmp/feed-demo \\
        --base-url http://127.0.0.1:8000
    python -m http.server 8000 --bind 127.0.0.1 --directory /tmp/feed-demo
"""
import argparse
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

TOPICS = ["inflation", "interest rates", "the housing market", "tariffs", "jobs report",
          "consumer spending", "supply chains", "oil prices", "the Federal Reserve",
          "small businesses", "student loans", "electric vehicles", "farm income",
          "corporate earnings", "the bond market", "minimum wage", "remote work",
          "health insurance", "artificial intelligence", "shipping rates"]
WORDS = ("economy market prices workers companies consumers policy growth rates data "
         "report quarter investors billion percent budget costs demand supply trade "
         "retail banks lending mortgage credit savings wages labor energy export import "
         "factory profit revenue forecast recession recovery stocks bonds dollar").split()
HOSTS = ["Kai Ryssdal", "Amy Scott", "Sabri Ben-Achour", "Nancy Marshall-Genzer"]


def sentence(rng: random.Random, words: int) -> str:
    """Return one capitalised sentence of ``words`` vocabulary words."""
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def item_xml(index: int, rng: random.Random, base_url: str, published: datetime) -> str:
    """Return one ``<item>`` of about 2.6 KB."""
    topic = rng.choice(TOPICS)
    title = f"What {topic} means for {rng.choice(WORDS)} & {rng.choice(WORDS)} (#{index})"
    paragraphs = "".join(f"<p>{sentence(rng, rng.randint(20, 32))}</p>" for _ in range(3))
    notes = (f"{paragraphs}<p>Host: <a href=\"{base_url}/people/{index % 4}\">"
             f"{HOSTS[index % 4]}</a>. Sponsored links &amp; transcript on our site.</p>")
    summary = " ".join(sentence(rng, rng.randint(10, 16)) for _ in range(3))
    slug = f"episode-{index}"
    seconds = rng.randint(1500, 1800)
    duration = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"""<item>
  <title>{title.replace("&", "&amp;")}</title>
  <link>{base_url}/shows/daily/{slug}/</link>
  <pubDate>{published.strftime("%a, %d %b %Y %H:%M:%S +0000")}</pubDate>
  <guid isPermaLink="false">{base_url}/?p={400000 + index}</guid>
  <description><![CDATA[{notes}]]></description>
  <content:encoded><![CDATA[{notes}]]></content:encoded>
  <itunes:summary>{summary}</itunes:summary>
  <enclosure url="{base_url}/audio/{slug}.mp3?updated={int(published.timestamp())}&amp;source=rss" length="{seconds * 16000}" type="audio/mpeg"/>
  <itunes:duration>{duration}</itunes:duration>
  <itunes:explicit>false</itunes:explicit>
  <itunes:episodeType>full</itunes:episodeType>
  <itunes:author>Daily Business Radio</itunes:author>
  <itunes:image href="{base_url}/art/{slug}.jpg"/>
</item>
"""


def short_item_xml(index: int, rng: random.Random, base_url: str, published: datetime) -> str:
    """Return one ``<item>`` of about 335 bytes: a one-sentence description, no artwork
    (50,000 of them make the 16 MB feed of issue 19's whole-CLI benchmark)."""
    seconds = rng.randint(1500, 1800)
    return (f"<item><title>{rng.choice(TOPICS)} #{index}</title>"
            f'<guid isPermaLink="false">d-{index}</guid>'
            f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"<description>{sentence(rng, rng.randint(3, 5))}</description>"
            f'<enclosure url="{base_url}/audio/episode-{index}.mp3" length="{seconds * 16000}"'
            f' type="audio/mpeg"/><itunes:duration>{seconds}</itunes:duration></item>\n')


def feed_xml(items: int, base_url: str, seed: int = 6, short: bool = False) -> bytes:
    """Return a whole feed of ``items`` items, newest first, as UTF-8 bytes
    (``short``: the 335-byte items of ``short_item_xml`` instead of 2.6 KB ones)."""
    rng = random.Random(seed)
    newest = datetime(2024, 5, 31, 22, 0, tzinfo=timezone.utc)
    head = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>Daily Business Radio</title>
<link>{base_url}/shows/daily/</link>
<atom:link href="{base_url}/feed.xml" rel="self" type="application/rss+xml"/>
<description>Business news for the rest of us, every weekday.</description>
<language>en-us</language>
<itunes:author>Daily Business Radio</itunes:author>
<itunes:image href="{base_url}/art/show.jpg"/>
<itunes:category text="Business"><itunes:category text="Investing"/></itunes:category>
"""
    make_item = short_item_xml if short else item_xml
    body = "".join(make_item(items - i, rng, base_url, newest - timedelta(days=i))
                   for i in range(items))
    return (head + body + "</channel>\n</rss>\n").encode("utf-8")


def write_demo(out: Path, items: int, base_url: str, audio_files: int, audio_kb: int) -> None:
    """Write ``feed.xml`` and the newest ``audio_files`` small audio files under ``out``."""
    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "feed.xml").write_bytes(feed_xml(items, base_url))
    noise = random.Random(1)
    for index in range(items, max(items - audio_files, 0), -1):
        (out / "audio" / f"episode-{index}.mp3").write_bytes(
            b"ID3" + noise.randbytes(audio_kb * 1024))


def main(argv: list[str] | None = None) -> int:
    """Write a demo feed folder ready for ``python -m http.server``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--items", type=int, default=120, help="items in the feed")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                        help="where the folder will be served")
    parser.add_argument("--audio-files", type=int, default=10,
                        help="newest episodes that get an audio file")
    parser.add_argument("--audio-kb", type=int, default=256, help="size of each audio file")
    args = parser.parse_args(argv)
    write_demo(args.out, args.items, args.base_url.rstrip("/"), args.audio_files, args.audio_kb)
    print(f"wrote {args.out / 'feed.xml'} ({args.items} items)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
