"""Generate the demo forum: a fictional French pregnancy forum built from the seed posts.

The generator recombines the hand-written seed posts with label-neutral
fragments (greetings, sign-offs, short replies, quotes, signatures) and
perturbs their spelling the way forum users write (missing accents, SMS
spelling, typos, emoji), without ever changing what a post says about a drug,
a dose or a gestational age. Every draw comes from one ``random.Random(seed)``,
so the same seed, size and inputs give byte-identical pages.

Two outputs share the same threads:

- :func:`write_site` writes a static HTML snapshot (boards, paginated thread
  lists, threads over several pages) plus ``truth.csv`` kept beside the site,
  never inside it: the crawler never sees the truth;
- :func:`iter_raw_records` yields posts directly in the raw collection format,
  streaming, for benchmarks on a million posts.

The snapshot also carries the defects a real crawl meets (a post without a
date, posts deleted by the moderation, a double post, a page with a broken
encoding, a dead pagination link), so that the collection report has
something to count.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import random
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from perivigil.demo.seeds import Fragments, SeedPost, Truth

PARIS = ZoneInfo("Europe/Paris")
FIRST_DAY = datetime(2016, 1, 1, 8, 0, tzinfo=PARIS)
SPAN_SECONDS = 9 * 365 * 24 * 3600  # threads start between 2016 and the end of 2024
ARCHIVE_BEFORE = datetime(2018, 1, 1, tzinfo=PARIS)  # older pages show dates as text only
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Probabilities of each label-neutral change; none of them touches digits or units.
P_OPENER = 0.35
P_CLOSER = 0.35
P_NO_ACCENTS = 0.18
P_LOWERCASE = 0.15
P_SMS = 0.15
P_TYPO = 0.12
P_EMOJI = 0.12
P_SHOUT = 0.05
P_CONTACT = 0.03
# Thread structure.
MEAN_REPLIES = 6.5
MAX_REPLIES = 60
P_REPLY_IS_SEED = 0.5
P_REPLY_SAME_BOARD = 0.7
P_QUOTE = 0.15
P_MENTION = 0.06
P_SIGNATURE_AUTHOR = 0.3
# Defects of a real crawl.
P_DELETED = 0.004
P_NO_DATE = 0.004
P_DOUBLE_POST = 0.01

OPENER_JOINS = (", ", " ! ", "\n", " ")
CLOSER_JOINS = (" ", "\n", "\n\n")
SMS = (
    (r"\bc'est\b", "c"),
    (r"\bque\b", "ke"),
    (r"\bqu'", "k'"),
    (r"\bquoi\b", "koi"),
    (r"\bbeaucoup\b", "bcp"),
    (r"\bpour\b", "pr"),
    (r"\bje suis\b", "jsuis"),
    (r"\btoujours\b", "tjrs"),
    (r"\baujourd'hui\b", "ajd"),
    (r"\brendez-vous\b", "rdv"),
    (r"\bparce que\b", "pcq"),
    (r"\bs'il vous plaît\b", "svp"),
    (r"\bvraiment\b", "vrmt"),
    (r"\bquelqu'un\b", "qqn"),
    (r"\bpendant\b", "pdt"),
    (r"\bj'ai\b", "g"),
    (r"\bbébé\b", "bb"),
    (r"\bavec\b", "avc"),
    (r"\bmerci\b", "mci"),
)


@dataclass
class Post:
    """One generated post, with where it came from."""

    post_id: int
    thread_id: int
    author: str
    created_at: datetime
    text: str
    seed_id: str
    case: str
    truth: Truth
    quote_author: str | None = None
    quote_text: str | None = None
    signature: str | None = None
    deleted: bool = False
    no_date: bool = False


@dataclass
class Thread:
    """One generated thread: a title, a board and its posts in order."""

    thread_id: int
    board: str
    title: str
    posts: list[Post] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return f"{self.thread_id}-{slugify(self.title)}"


def slugify(text: str) -> str:
    """ASCII, lower-case, dash-separated form of a title, for URLs."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "sujet"


def strip_accents(text: str) -> str:
    """Remove Latin combining accents, as typed on a phone without them; emoji are kept."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not 0x0300 <= ord(ch) <= 0x036F)
    return unicodedata.normalize("NFC", kept)


def sms_spelling(text: str, rng: random.Random) -> str:
    """Replace some common words by their SMS spelling."""
    for pattern, replacement in SMS:
        if rng.random() < 0.6:
            text = re.sub(pattern, replacement, text, flags=re.IGNORECASE)
    return text


def one_typo(text: str, rng: random.Random) -> str:
    """Swap two adjacent letters inside one word of six letters or more."""
    words = [m for m in re.finditer(r"[^\W\d_]{6,}", text)]
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(word.start() + 1, word.end() - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def perturb(text: str, rng: random.Random, fragments: Fragments) -> str:
    """Apply label-neutral forum noise to a post's text (digits and units untouched)."""
    if rng.random() < P_OPENER:
        text = rng.choice(fragments.openers) + rng.choice(OPENER_JOINS) + text
    if rng.random() < P_CLOSER:
        text = text + rng.choice(CLOSER_JOINS) + rng.choice(fragments.closers)
    if rng.random() < P_SMS:
        text = sms_spelling(text, rng)
    if rng.random() < P_TYPO:
        text = one_typo(text, rng)
    if rng.random() < P_NO_ACCENTS:
        text = strip_accents(text)
    if rng.random() < P_LOWERCASE:
        text = text.lower()
    if rng.random() < P_SHOUT:
        text = re.sub(r"([?!])(\s|$)", lambda m: m.group(1) * rng.randint(2, 4) + m.group(2), text)
    if rng.random() < P_EMOJI:
        text = f"{text} {rng.choice(fragments.emoji) * rng.randint(1, 3)}"
    if rng.random() < P_CONTACT:
        line = rng.choice(fragments.contact_lines).format(
            email=rng.choice(fragments.emails), phone=rng.choice(fragments.phones), url=rng.choice(fragments.urls)
        )
        text = f"{text}\n{line}"
    return text


def make_authors(fragments: Fragments, rng: random.Random) -> list[str]:
    """All stem × suffix handles, shuffled once."""
    handles = [f"{stem}{suffix}" for stem in fragments.author_stems for suffix in fragments.author_suffixes]
    rng.shuffle(handles)
    return handles


def _seeds_by_board(seeds: list[SeedPost]) -> dict[str, list[SeedPost]]:
    by_board: dict[str, list[SeedPost]] = {}
    for seed in seeds:
        by_board.setdefault(seed.board, []).append(seed)
    return by_board


def _quote_of(text: str) -> str:
    if len(text) <= 280:
        return text
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return f"{first[:280]} [...]"


NEGATIVE = Truth()


def iter_threads(seeds: list[SeedPost], fragments: Fragments, n_posts: int, seed: int) -> Iterator[Thread]:
    """Yield threads until exactly ``n_posts`` posts have been made."""
    rng = random.Random(seed)
    authors = make_authors(fragments, rng)
    signature_of = {a: rng.choice(fragments.signatures) for a in authors if rng.random() < P_SIGNATURE_AUTHOR}
    by_board = _seeds_by_board(seeds)
    boards = [b["slug"] for b in fragments.boards if b["slug"] in by_board]
    weights = [len(by_board[b]) for b in boards]
    reply_seeds = [f"reply-{i + 1:02d}" for i in range(len(fragments.replies))]
    made = 0
    thread_id = 5000
    post_id = 100000
    while made < n_posts:
        thread_id += 1
        board = rng.choices(boards, weights)[0]
        thread = Thread(thread_id, board, rng.choice(fragments.titles[board]))
        size = 1 + min(int(rng.expovariate(1 / MEAN_REPLIES)), MAX_REPLIES)
        size = min(size, n_posts - made)
        when = FIRST_DAY + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        used: set[str] = set()
        while len(thread.posts) < size:
            post_id += 1
            first = not thread.posts
            author = rng.choice(authors)
            if first or rng.random() < P_REPLY_IS_SEED:
                pool = by_board[board] if first or rng.random() < P_REPLY_SAME_BOARD else seeds
                chosen = rng.choice(pool)
                if chosen.id in used:  # a seed rarely appears twice in one thread
                    chosen = rng.choice(seeds)
                used.add(chosen.id)
                text, seed_id, case, truth = perturb(chosen.text, rng, fragments), chosen.id, chosen.case, chosen.truth
            else:
                k = rng.randrange(len(fragments.replies))
                text, seed_id, case, truth = (
                    perturb(fragments.replies[k], rng, fragments),
                    reply_seeds[k],
                    "reply",
                    NEGATIVE,
                )
            post = Post(
                post_id, thread_id, author, when, text, seed_id, case, truth, signature=signature_of.get(author)
            )
            earlier = [p for p in thread.posts if not p.deleted]
            if earlier and rng.random() < P_QUOTE:
                quoted = rng.choice(earlier)
                post.quote_author, post.quote_text = quoted.author, _quote_of(quoted.text)
            elif earlier and rng.random() < P_MENTION:
                named = rng.choice(earlier).author
                post.text = rng.choice([f"@{named} {post.text}", f"{post.text}\nMerci {named} pour ta réponse"])
            if not first and rng.random() < P_DELETED:
                post.deleted = True
            elif rng.random() < P_NO_DATE:
                post.no_date = True
            thread.posts.append(post)
            when += timedelta(seconds=int(rng.expovariate(1 / (6 * 3600))) + 60)
            if earlier and not post.deleted and len(thread.posts) < size and rng.random() < P_DOUBLE_POST:
                # The same author sends the same message twice, a minute apart.
                post_id += 1
                thread.posts.append(
                    Post(
                        post_id,
                        thread_id,
                        author,
                        when,
                        post.text,
                        post.seed_id,
                        post.case,
                        post.truth,
                        signature=post.signature,
                    )
                )
                when += timedelta(seconds=60)
        made += len(thread.posts)
        yield thread


# ----------------------------------------------------------------------------- HTML
PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>{title} — {forum}</title>
<link rel="stylesheet" href="{root}static/forum.css">
</head>
<body>
<header class="site-header"><a class="site-logo" href="{root}index.html">{forum}</a>
<nav class="site-nav"><a href="{root}index.html">Forums</a> · <a href="{root}membres/index.html">Membres</a> · <a href="{root}regles.html">Règles</a></nav></header>
<main class="{main_class}"{main_attrs}>
{body}
</main>
<footer class="site-footer">Forum fictif de démonstration (perivigil). Aucun message n'est réel.</footer>
</body>
</html>
"""

CSS = """body{font-family:Georgia,serif;max-width:60em;margin:auto;background:#fdf7f9;color:#333}
.site-header{background:#e8a0b4;padding:.6em 1em}.site-logo{font-weight:bold;color:#fff;text-decoration:none}
.post{background:#fff;border:1px solid #eed;margin:1em 0;padding:.8em}.post-header{color:#999;font-size:.9em}
.post-author{font-weight:bold;color:#b0476b}.quote{border-left:3px solid #e8a0b4;margin:.5em;padding:.3em .8em;color:#666}
.post-signature{border-top:1px dashed #ddd;font-size:.8em;color:#aaa;margin-top:.6em}.pagination a{margin:0 .3em}
"""


def _french_date(moment: datetime) -> str:
    return f"{moment.day} {MONTHS_FR[moment.month - 1]} {moment.year} à {moment:%H:%M}"


def _paragraphs(text: str) -> str:
    return "\n".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n") if line.strip())


def _date_html(post: Post) -> str:
    if post.no_date:
        return '<span class="post-date post-date-unknown">date inconnue</span>'
    if post.created_at < ARCHIVE_BEFORE:
        return f'<span class="post-date">le {post.created_at:%d/%m/%Y à %Hh%M}</span>'
    return f'<time class="post-date" datetime="{post.created_at.isoformat()}">{_french_date(post.created_at)}</time>'


def _post_html(post: Post) -> str:
    parts = [
        f'<article class="post" id="msg{post.post_id}" data-post-id="{post.post_id}">',
        '<header class="post-header">',
        f'<a class="post-author author-link" href="../membres/{html.escape(post.author)}.html">'
        f"{html.escape(post.author)}</a>",
        _date_html(post),
        "</header>",
    ]
    if post.deleted:
        parts.append('<div class="post-body post-deleted"></div>')
        parts.append('<p class="moderation-note">Message supprimé par la modération.</p>')
    else:
        body = []
        if post.quote_text is not None:
            body.append(
                f'<blockquote class="quote"><div class="quote-author">{html.escape(post.quote_author or "")}'
                f' a écrit :</div><div class="quote-text">{_paragraphs(post.quote_text)}</div></blockquote>'
            )
        body.append(_paragraphs(post.text))
        parts.append(f'<div class="post-body">{"".join(body)}</div>')
    if post.signature:
        parts.append(f'<footer class="post-signature">{html.escape(post.signature)}</footer>')
    parts.append("</article>")
    return "\n".join(parts)


def _pagination(current: int, pages: int, name_of) -> str:
    links = []
    if current > 1:
        links.append(f'<a class="pagination-prev" href="{name_of(current - 1)}">« Précédent</a>')
    for n in range(1, pages + 1):
        links.append(
            f'<span class="pagination-current">{n}</span>'
            if n == current
            else f'<a class="pagination-page" href="{name_of(n)}">{n}</a>'
        )
    if current < pages:
        links.append(f'<a class="pagination-next" href="{name_of(current + 1)}">Suivant »</a>')
    return f'<nav class="pagination">{" ".join(links)}</nav>'


def _thread_page_name(thread: Thread, page: int) -> str:
    return f"{thread.slug}.html" if page == 1 else f"{thread.slug}-p{page}.html"


def _board_page_name(page: int) -> str:
    return "index.html" if page == 1 else f"page-{page}.html"


@dataclass(frozen=True)
class SiteLayout:
    """How many items a page shows, and which pages are broken on purpose."""

    posts_per_page: int = 10
    threads_per_page: int = 20
    broken_encoding_pages: int = 1
    dead_pagination_links: int = 1


def write_site(
    threads: list[Thread], fragments: Fragments, site_dir: Path, truth_path: Path, layout: SiteLayout, seed: int
) -> dict[str, int]:
    """Write the HTML snapshot under ``site_dir`` and the truth table at ``truth_path``.

    Returns counts of what was written, defects included.
    """
    rng = random.Random(seed + 1)
    forum = fragments.forum["name"]
    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "static").mkdir(exist_ok=True)
    (site_dir / "static" / "forum.css").write_text(CSS, encoding="utf-8")
    (site_dir / "robots.txt").write_text(
        "User-agent: *\nDisallow: /membres/\nDisallow: /recherche/\nCrawl-delay: 1\n", encoding="utf-8"
    )
    (site_dir / "regles.html").write_text(
        PAGE.format(
            title="Règles",
            forum=html.escape(forum),
            root="",
            main_class="rules",
            main_attrs="",
            body="<h1>Règles du forum</h1><p>Soyez bienveillantes. Pas de conseil médical : demandez à un professionnel.</p>",
        ),
        encoding="utf-8",
    )
    board_titles = {b["slug"]: b["title"] for b in fragments.boards}
    multi_page = [t for t in threads if len(t.posts) > layout.posts_per_page]
    broken = {t.thread_id for t in rng.sample(multi_page, min(layout.broken_encoding_pages, len(multi_page)))}
    rest = [t for t in multi_page if t.thread_id not in broken]
    dead = {t.thread_id for t in rng.sample(rest, min(layout.dead_pagination_links, len(rest)))}
    status: dict[int, str] = {}
    counts = {"threads": len(threads), "posts": 0, "pages": 0}
    # Thread pages.
    thread_dir = site_dir / "sujet"
    thread_dir.mkdir(exist_ok=True)
    for thread in threads:
        pages = -(-len(thread.posts) // layout.posts_per_page)
        for page in range(1, pages + 1):
            chunk = thread.posts[(page - 1) * layout.posts_per_page : page * layout.posts_per_page]
            if page == 2 and thread.thread_id in dead:
                for post in chunk:
                    status[post.post_id] = "page_missing"
                continue  # the link on page 1 leads nowhere
            body = (
                f'<nav class="breadcrumb"><a href="../index.html">Forums</a> › '
                f'<a class="breadcrumb-board" href="../forum/{thread.board}/index.html">'
                f"{html.escape(board_titles[thread.board])}</a></nav>\n"
                f'<h1 class="thread-title">{html.escape(thread.title)}</h1>\n'
                + "\n".join(_post_html(p) for p in chunk)
                + "\n"
                + _pagination(page, pages, lambda n, t=thread: _thread_page_name(t, n))
            )
            text = PAGE.format(
                title=html.escape(thread.title),
                forum=html.escape(forum),
                root="../",
                main_class="thread",
                main_attrs=f' data-thread-id="{thread.thread_id}"',
                body=body,
            )
            data = text.encode("utf-8")
            if page == 2 and thread.thread_id in broken:
                # Declared UTF-8, saved as Windows-1252: a real encoding accident.
                data = text.encode("cp1252", errors="replace")
                for post in chunk:
                    status[post.post_id] = "page_encoding_error"
            (thread_dir / _thread_page_name(thread, page)).write_bytes(data)
            counts["pages"] += 1
    # Board pages, most recent activity first as on a real forum.
    for slug, title in board_titles.items():
        board_threads = sorted(
            (t for t in threads if t.board == slug), key=lambda t: (t.posts[-1].created_at, t.thread_id), reverse=True
        )
        board_dir = site_dir / "forum" / slug
        board_dir.mkdir(parents=True, exist_ok=True)
        pages = max(1, -(-len(board_threads) // layout.threads_per_page))
        for page in range(1, pages + 1):
            listed = board_threads[(page - 1) * layout.threads_per_page : page * layout.threads_per_page]
            rows = "\n".join(
                f'<li class="thread-row"><a class="thread-link" href="../../sujet/{_thread_page_name(t, 1)}">'
                f'{html.escape(t.title)}</a> <span class="thread-meta">{len(t.posts)} messages</span></li>'
                for t in listed
            )
            body = (
                f'<h1 class="board-title">{html.escape(title)}</h1>\n<ul class="thread-list">\n{rows}\n</ul>\n'
                + _pagination(page, pages, _board_page_name)
            )
            (board_dir / _board_page_name(page)).write_text(
                PAGE.format(
                    title=html.escape(title),
                    forum=html.escape(forum),
                    root="../../",
                    main_class="board",
                    main_attrs=f' data-board="{slug}"',
                    body=body,
                ),
                encoding="utf-8",
            )
            counts["pages"] += 1
    rows = "\n".join(
        f'<li class="board-row"><a class="board-link" href="forum/{b["slug"]}/index.html">'
        f"{html.escape(b['title'])}</a></li>"
        for b in fragments.boards
    )
    (site_dir / "index.html").write_text(
        PAGE.format(
            title="Forums",
            forum=html.escape(forum),
            root="",
            main_class="forum-index",
            main_attrs="",
            body=f'<h1>Forums</h1>\n<ul class="board-list">\n{rows}\n</ul>',
        ),
        encoding="utf-8",
    )
    counts["pages"] += 1
    write_truth(threads, truth_path, status)
    counts["posts"] = sum(len(t.posts) for t in threads)
    counts["deleted"] = sum(p.deleted for t in threads for p in t.posts)
    counts["no_date"] = sum(p.no_date and not p.deleted for t in threads for p in t.posts)
    counts["on_broken_pages"] = len(status)
    return counts


TRUTH_COLUMNS = (
    "post_id",
    "thread_id",
    "board",
    "seed_id",
    "case",
    "status",
    "iso_t1",
    "nsaid_late",
    "exposure",
    "person",
    "drug",
    "gestational_age_sa",
    "dose_mg_day",
)


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_truth(threads: Iterable[Thread], path: Path, page_status: dict[int, str]) -> None:
    """The truth table (``TRUTH_COLUMNS``) of the threads' posts; ``page_status`` overrides a post's state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        for thread in threads:
            for p in thread.posts:
                state = page_status.get(p.post_id) or ("deleted" if p.deleted else "no_date" if p.no_date else "ok")
                t = p.truth
                writer.writerow(
                    [
                        p.post_id,
                        p.thread_id,
                        thread.board,
                        p.seed_id,
                        p.case,
                        state,
                        t.iso_t1,
                        t.nsaid_late,
                        t.exposure,
                        _fmt(t.person),
                        _fmt(t.drug),
                        _fmt(t.gestational_age_sa),
                        _fmt(t.dose_mg_day),
                    ]
                )


def write_manifest(site_dir: Path, manifest_path: Path) -> int:
    """Write ``sha256  relative/path`` for every file of the site; return the file count."""
    files = sorted(p for p in site_dir.rglob("*") if p.is_file())
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(site_dir).as_posix()}" for p in files]
    manifest_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(files)


# ----------------------------------------------------------------------------- JSONL
def iter_raw_records(
    seeds: list[SeedPost], fragments: Fragments, n_posts: int, seed: int, source: str = "demo_forum"
) -> Iterator[dict[str, str]]:
    """Yield posts in the raw collection format (see ``perivigil.collect.records``), streaming.

    Used for benchmarks: no HTML is written, no defect is injected, the quote is
    kept apart as the crawler would keep it.
    """
    base = fragments.forum["base_url"]
    collected_at = fragments.forum["snapshot_date"]
    titles = {b["slug"]: b["title"] for b in fragments.boards}
    for thread in iter_threads(seeds, fragments, n_posts, seed):
        url = f"{base}sujet/{thread.slug}.html"
        for post in thread.posts:
            record = {
                "source": source,
                "post_id": str(post.post_id),
                "thread_id": str(thread.thread_id),
                "thread_title": thread.title,
                "board": titles[thread.board],
                "url": f"{url}#msg{post.post_id}",
                "author": post.author,
                "created_at": post.created_at.astimezone(UTC).isoformat(),
                "text": post.text,
                "collected_at": collected_at,
            }
            if post.quote_text is not None:
                record["quote_author"] = post.quote_author or ""
                record["quote_text"] = post.quote_text
            yield record


def write_raw_jsonl(records: Iterator[dict[str, str]], path: Path) -> int:
    """Write records as JSONL; return how many."""
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n
