"""Deterministic demo export of Korean Zendesk VOC tickets for a recruiting platform."""

# The file follows the source contract of `zendesk_voc_classified` (one row per classification of a
# ticket) and plants one example of every severity in its last week against the week before, so the
# whole pipeline can be shown and tested without access to the production warehouse.

from __future__ import annotations

import io
import itertools
import json
import os
import random
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from flows.demo.catalog import (
    BANKS,
    EMAIL_DOMAINS,
    EMAIL_NAMES,
    FILLERS,
    GENERIC_PII,
    LEAVES,
    PII_KINDS,
    PII_SENTENCES,
    TONE,
    UNCLASSIFIED,
    Leaf,
)
from flows.weeks import KST, week_monday

DEMO_WEEKS = 14
DEMO_SEED = 7

# Bumped whenever the generated content changes, so ensure_demo_data rewrites stale demo files.
_GENERATOR_VERSION = 1

_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        # Naive microsecond timestamps read back as DuckDB TIMESTAMP (nanoseconds would be
        # TIMESTAMP_NS) and match BigQuery's TIMESTAMP column of the production table.
        ("event_create_time", pa.timestamp("us")),
        ("title", pa.string()),
        ("detail", pa.string()),
        ("category1", pa.string()),
        ("category2", pa.string()),
        ("category3", pa.string()),
        ("overall_emotion", pa.string()),
        ("main_topic", pa.string()),
        ("keywords", pa.string()),
    ]
)

# Customers write far more on weekdays and during office hours (KST), as in the real inbox.
_WEEKDAY_WEIGHTS = (1.2, 1.15, 1.1, 1.05, 1.0, 0.45, 0.4)
_HOUR_WEIGHTS = (
    0.25, 0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.8, 1.3, 1.6, 1.5,
    1.0, 1.4, 1.6, 1.5, 1.4, 1.2, 0.9, 0.7, 0.6, 0.6, 0.5, 0.4,
)  # fmt: skip

# One draw per ticket over the 168 hours of the week.
_WEEK_HOUR_CUMULATIVE = tuple(
    itertools.accumulate(day * hour for day in _WEEKDAY_WEIGHTS for hour in _HOUR_WEIGHTS)
)

_PII_SHARE = 0.2  # tickets carrying personal data (the brief asks for 15–25%)
_DUPLICATE_SHARE = 0.01  # tickets exported twice; half verbatim, half re-classified


@dataclass(slots=True)
class _Row:
    """One row of the export, before ids are assigned."""

    created_kst: datetime
    title: str
    detail: str
    category1: str | None
    category2: str | None
    category3: str | None
    emotion: str | None
    main_topic: str | None
    keywords: str | None
    leaf: Leaf
    id: str = ""


def write_demo_data(path: Path, end_week: date, weeks: int = DEMO_WEEKS, seed: int = DEMO_SEED) -> int:
    """Write `weeks` KST weeks of demo tickets ending with week `end_week`; return the row count."""
    _check_monday(end_week)
    if weeks < 2:
        raise ValueError(f"weeks must be at least 2 (a baseline and a report week), got {weeks}")
    rng = random.Random(seed)
    first_week = end_week - timedelta(days=7 * (weeks - 1))
    plan = _plan_counts(rng, weeks)
    rows = _generate_rows(rng, plan, first_week, weeks)
    rows = _assign_ids(rng, rows)
    rows = _add_duplicates(rng, rows, first_week)
    # Exports come roughly in creation order; the id breaks ties so the file is stable.
    rows.sort(key=lambda row: (row.created_kst, row.id))
    _write_parquet(path, rows)
    _write_json(
        _sidecar_path(path),
        {
            "end_week": end_week.isoformat(),
            "weeks": weeks,
            "seed": seed,
            "rows": len(rows),
            "generator_version": _GENERATOR_VERSION,
        },
    )
    return len(rows)


def ensure_demo_data(path: Path, end_week: date) -> Path:
    """Write the demo data unless `path` already holds it for `end_week`; return `path`."""
    _check_monday(end_week)
    if not _is_current(path, end_week):
        write_demo_data(path, end_week)
    return path


def _check_monday(day: date) -> None:
    """Reject a week start that is not a Monday: weeks run Monday–Sunday KST."""
    if week_monday(day) != day:
        raise ValueError(f"end_week must be a Monday, got {day.isoformat()} ({day:%A})")


def _sidecar_path(path: Path) -> Path:
    """The JSON file recording what the demo file at `path` was generated with."""
    return path.with_name(path.name + ".json")


def _is_current(path: Path, end_week: date) -> bool:
    """Whether `path` holds complete demo data generated with the defaults for `end_week`."""
    try:
        meta = json.loads(_sidecar_path(path).read_text(encoding="utf-8"))
        expected = {
            "end_week": end_week.isoformat(),
            "weeks": DEMO_WEEKS,
            "seed": DEMO_SEED,
            "generator_version": _GENERATOR_VERSION,
        }
        if any(meta.get(key) != value for key, value in expected.items()):
            return False
        # The footer alone tells whether the file is the one the sidecar describes; reading it is
        # cheap and catches a file replaced by hand.
        return bool(pq.read_metadata(path).num_rows == meta["rows"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, pa.ArrowException):
        return False


def _plan_counts(rng: random.Random, weeks: int) -> list[tuple[Leaf, list[tuple[int, int]]]]:
    """Tickets and negative tickets per category and week, fixed before any ticket exists."""
    baseline = weeks - 2
    plan: list[tuple[Leaf, list[tuple[int, int]]]] = []
    for leaf in (*LEAVES, UNCLASSIFIED):
        if leaf.final is not None:
            final = leaf.final
            level = final.prev or leaf.base
            share = final.prev_negative / final.prev if final.prev else leaf.negative_share
            last_two = [(final.prev, final.prev_negative), (final.last, final.last_negative)]
        else:
            # Stable categories: the last two weeks differ by at most 10% in tickets and 5
            # percentage points in negative share, far inside every threshold, so noise can never
            # flag them.
            prev = max(1, round(leaf.base * rng.uniform(0.95, 1.05)))
            last = prev + rng.randint(-(prev // 10), prev // 10)
            prev_negative = _negatives(rng, prev, leaf.negative_share, 0.03)
            level, share = prev, prev_negative / prev
            last_two = [(prev, prev_negative), (last, _close_negatives(rng, last, share))]
        # Older weeks drift towards the baseline along a gentle trend, with more noise, so the
        # history looks real.
        trend = rng.uniform(-0.15, 0.15)
        history: list[tuple[int, int]] = []
        for week in range(baseline):
            if leaf.final is not None and leaf.final.prev == 0:
                history.append((0, 0))  # a brand-new category has no history
                continue
            factor = (1 + trend * (week - baseline) / baseline) * rng.uniform(0.85, 1.15)
            count = max(1, round(level * factor))
            if leaf.final is not None and leaf.final.last == 0:
                count = min(count, 6)  # a vanishing category was always small
            history.append((count, _negatives(rng, count, share, 0.06)))
        plan.append((leaf, history + last_two))
    return plan


def _negatives(rng: random.Random, count: int, share: float, jitter: float) -> int:
    """A negative-ticket count near `share` of `count`."""
    noisy = min(1.0, max(0.0, share + rng.uniform(-jitter, jitter)))
    return round(count * noisy)


def _close_negatives(rng: random.Random, count: int, share: float) -> int:
    """A negative-ticket count whose share of `count` is within 5 percentage points of `share`."""
    if count == 0:
        return 0
    close = [k for k in range(count + 1) if abs(k / count - share) <= 0.05]
    return rng.choice(close) if close else round(count * share)


def _generate_rows(
    rng: random.Random,
    plan: list[tuple[Leaf, list[tuple[int, int]]]],
    first_week: date,
    weeks: int,
) -> list[_Row]:
    """Tickets matching the plan, with KST creation times, text and classification."""
    rows: list[_Row] = []
    for week in range(weeks):
        monday = datetime.combine(first_week + timedelta(days=7 * week), time(), KST)
        is_report_week = week == weeks - 1
        # Every kind of personal data shows up in the two compared weeks, whatever the seed.
        forced_pii = list(PII_KINDS) if week >= weeks - 2 else []
        week_rows: list[_Row] = []
        for leaf, counts in plan:
            count, negative = counts[week]
            surges = round(count * leaf.surge.share) if leaf.surge and is_report_week else 0
            for index in range(count):
                week_rows.append(
                    _make_row(
                        rng,
                        leaf,
                        created_kst=_random_time(rng, monday),
                        is_negative=index < negative,
                        # The surge is what customers are upset about: it takes the negative
                        # tickets first.
                        is_surge=index < surges,
                        forced_pii=forced_pii,
                    )
                )
        rows.extend(_pin_boundary_times(rng, week_rows, monday, exact_start=week >= weeks - 2))
    return rows


def _random_time(rng: random.Random, monday: datetime) -> datetime:
    """A KST time in the week starting `monday`, weighted towards weekdays and office hours."""
    hour = rng.choices(range(168), cum_weights=_WEEK_HOUR_CUMULATIVE)[0]
    return monday + timedelta(hours=hour, seconds=rng.randrange(3600))


def _pin_boundary_times(
    rng: random.Random, week_rows: list[_Row], monday: datetime, exact_start: bool
) -> list[_Row]:
    """Move a few tickets to the edges of the KST week, where a UTC week would cut differently."""
    if len(week_rows) < 3:
        return week_rows
    sunday_late = monday + timedelta(days=6, hours=23)
    picks = rng.sample(range(len(week_rows)), 3)
    # Sunday 23:xx KST is Sunday 14:xx UTC; the last of these is the newest ticket of the week, so
    # the report week's data reaches into its final three hours.
    for index in picks[:2]:
        offset = timedelta(minutes=rng.randrange(60), seconds=rng.randrange(60))
        week_rows[index].created_kst = sunday_late + offset
    # Monday 00:xx KST is still the previous Sunday in UTC. In the compared weeks one ticket sits
    # exactly on the boundary, which belongs to the new week.
    start_offset = timedelta() if exact_start else timedelta(minutes=rng.randrange(60))
    week_rows[picks[2]].created_kst = monday + start_offset
    return week_rows


def _make_row(
    rng: random.Random,
    leaf: Leaf,
    created_kst: datetime,
    is_negative: bool,
    is_surge: bool,
    forced_pii: list[str],
) -> _Row:
    """One ticket of `leaf`: classification, emotion and Korean text, maybe with personal data."""
    fill = _Fill(rng)
    surge = leaf.surge if is_surge else None
    titles = surge.titles if surge else leaf.titles
    details = surge.details if surge else leaf.details
    title = rng.choice(titles).format_map(fill)
    opening = rng.choice(details)
    sentences = [opening.format_map(fill)]
    if rng.random() < 0.35:
        second = rng.choice([detail for detail in details if detail != opening])
        sentences.append(second.format_map(fill))

    emotion = _emotion(rng, is_negative)
    tone = "negative" if is_negative else {"긍정": "positive"}.get((emotion or "").strip(), "neutral")
    if rng.random() < (0.85 if is_negative else 0.6):
        sentences.append(rng.choice(TONE[tone]))

    if forced_pii or rng.random() < _PII_SHARE:
        kinds = [forced_pii.pop(0)] if forced_pii else [_pick_pii_kind(rng, leaf)]
        if rng.random() < 0.15:
            kinds.append(_pick_pii_kind(rng, leaf))
        # Keep the body within four sentences: personal data replaces the optional second line.
        sentences = sentences[:1] + sentences[2:] if len(kinds) > 1 else sentences
        for kind in kinds:
            sentences.insert(rng.randint(1, len(sentences)), _pii_sentence(rng, kind))
        if rng.random() < 0.1:
            # Some customers put their contact details straight into the subject line.
            kind = rng.choice(("email", "mobile_dash"))
            title = f"{title} ({_pii_value(rng, kind)})"
    sentences = sentences[:4]

    if leaf.path is None:
        category: tuple[str | None, str | None, str | None] = _blank_categories(rng)
    else:
        category = leaf.path
    topic: str | None = surge.topic if surge else rng.choice(leaf.topics)
    keyword_pool = list(leaf.keywords)
    picked = rng.sample(keyword_pool, rng.randint(2, min(4, len(keyword_pool))))
    if surge:
        picked = rng.sample(list(surge.keywords), 2) + picked[:2]
    keywords: str | None = ",".join(picked)
    if leaf.path is None and rng.random() < 0.6:
        topic = None
    elif rng.random() < 0.04:
        topic = None
    if rng.random() < (0.3 if leaf.path is None else 0.05):
        keywords = None
    return _Row(
        created_kst=created_kst,
        title=title,
        detail=" ".join(sentences),
        category1=category[0],
        category2=category[1],
        category3=category[2],
        emotion=emotion,
        main_topic=topic,
        keywords=keywords,
        leaf=leaf,
    )


class _Fill(dict[str, str]):
    """Template values, drawn only for the placeholders a template uses, then kept per ticket."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self[key] = self.rng.choice(FILLERS[key])
        return value


def _emotion(rng: random.Random, is_negative: bool) -> str | None:
    """The classifier's emotion label, including the messy values the real column carries."""
    roll = rng.random()
    if is_negative:
        # Stray whitespace around '부정' still means negative once staging trims it.
        return " 부정 " if roll < 0.04 else "부정 " if roll < 0.06 else "부정"
    if roll < 0.06:
        return None
    if roll < 0.09:
        return ""
    if roll < 0.11:
        return " 중립"
    return "긍정" if roll < 0.3 else "중립"


def _blank_categories(rng: random.Random) -> tuple[str | None, str | None, str | None]:
    """The ways an unclassified ticket arrives: NULL, empty, whitespace-only or a mix."""
    style = rng.randrange(4)
    if style == 0:
        return (None, None, None)
    if style == 1:
        return ("", "", "")
    if style == 2:
        return ("  ", "  ", "  ")
    return (None, "", " ")


def _pick_pii_kind(rng: random.Random, leaf: Leaf) -> str:
    """A kind of personal data that fits the ticket's topic."""
    return rng.choice((*leaf.pii, *GENERIC_PII))


def _pii_sentence(rng: random.Random, kind: str) -> str:
    """A sentence carrying one piece of personal data of `kind`."""
    return rng.choice(PII_SENTENCES[kind]).format(v=_pii_value(rng, kind))


def _digits(rng: random.Random, count: int) -> str:
    """`count` random digits."""
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _pii_value(rng: random.Random, kind: str) -> str:
    """A fake but well-formed value of `kind`."""
    if kind == "email":
        name = rng.choice(EMAIL_NAMES) + (str(rng.randint(70, 99)) if rng.random() < 0.4 else "")
        return f"{name}@{rng.choice(EMAIL_DOMAINS)}"
    if kind == "mobile_dash":
        return f"010-{_digits(rng, 4)}-{_digits(rng, 4)}"
    if kind == "mobile_compact":
        return f"010{_digits(rng, 8)}"
    if kind == "mobile_intl":
        return f"+82 10-{_digits(rng, 4)}-{_digits(rng, 4)}"
    if kind == "landline":
        area = rng.choice(("02", "031", "051", "064"))
        middle = 3 if area == "02" and rng.random() < 0.5 else 4
        return f"{area}-{rng.randint(2, 9)}{_digits(rng, middle - 1)}-{_digits(rng, 4)}"
    if kind == "rrn":
        birth = date(1970, 1, 1) + timedelta(days=rng.randrange(365 * 35))
        return f"{birth:%y%m%d}-{rng.randint(1, 4)}{_digits(rng, 6)}"
    if kind == "card":
        return "-".join(_digits(rng, 4) for _ in range(4))
    if kind == "business_no":
        return f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 5)}"
    if kind == "bank_account":
        bank, parts = rng.choice(BANKS)
        return f"{bank} " + "-".join(_digits(rng, size) for size in parts)
    if kind == "birth_date":
        birth = date(1975, 1, 1) + timedelta(days=rng.randrange(365 * 30))
        return birth.strftime(rng.choice(("%Y.%m.%d", "%Y-%m-%d")))
    if kind == "ip":
        return rng.choice(
            (
                f"192.168.0.{rng.randint(2, 254)}",
                f"211.234.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            )
        )
    if kind == "token_url":
        token = "".join(rng.choice("0123456789abcdef") for _ in range(16))
        page = rng.choice(("reset", "verify-email", "login/callback"))
        return f"https://www.wanted.co.kr/{page}?token={token}"
    if kind == "digit_run":
        return str(rng.randint(2, 9)) + _digits(rng, rng.randint(11, 15))
    raise ValueError(f"unknown personal-data kind: {kind}")


def _assign_ids(rng: random.Random, rows: list[_Row]) -> list[_Row]:
    """Zendesk-style ids: increasing with creation time, with gaps left by other brands' tickets."""
    ordered = sorted(rows, key=lambda row: row.created_kst)
    next_id = 4_800_000
    for row in ordered:
        next_id += rng.randint(1, 5)
        row.id = str(next_id)
    return ordered


def _add_duplicates(rng: random.Random, rows: list[_Row], first_week: date) -> list[_Row]:
    """Export some tickets twice: half verbatim, half also with an older classification."""
    # The revised row is the planned one and strictly later than the superseded one, so
    # deduplication by latest event_create_time keeps it and the planned counts hold, whatever
    # order staging uses to break ties.
    start = datetime.combine(first_week, time(), KST)
    total = max(2, round(len(rows) * _DUPLICATE_SHARE))
    picks = rng.sample(range(len(rows)), total)
    exact, revised = picks[: total // 2], picks[total // 2 :]
    extra = [rows[index] for index in exact]
    for index in revised:
        row = rows[index]
        # The earlier classification must stay inside the exported range.
        room = int((row.created_kst - start).total_seconds() // 60)
        if room < 2:
            extra.append(row)
            continue
        earlier = row.created_kst - timedelta(minutes=rng.randint(1, min(180, room)))
        siblings = _siblings(row.leaf)
        if siblings and rng.random() < 0.5:
            extra.append(replace(row, created_kst=earlier, category3=rng.choice(siblings)))
        else:
            extra.append(replace(row, created_kst=earlier, emotion=_other_emotion(rng, row.emotion)))
    return rows + extra


def _siblings(leaf: Leaf) -> list[str]:
    """Other third-level categories under the same first two levels."""
    if leaf.path is None:
        return []
    return [
        other.path[2]
        for other in LEAVES
        if other.path is not None and other.path[:2] == leaf.path[:2] and other.path != leaf.path
    ]


def _other_emotion(rng: random.Random, emotion: str | None) -> str:
    """An emotion label different from `emotion` after trimming."""
    current = (emotion or "").strip()
    return rng.choice([label for label in ("부정", "중립", "긍정") if label != current])


def _write_parquet(path: Path, rows: Sequence[_Row]) -> None:
    """Write the rows in the source contract, atomically."""
    # Through newline-delimited JSON rather than pa.array: converting Python lists makes pyarrow
    # import pandas, which takes longer than generating the whole file.
    lines = [
        json.dumps(
            {
                "id": row.id,
                # Generated in KST, stored as naive UTC like the production column.
                "event_create_time": row.created_kst.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" "),
                "title": row.title,
                "detail": row.detail,
                "category1": row.category1,
                "category2": row.category2,
                "category3": row.category3,
                "overall_emotion": row.emotion,
                "main_topic": row.main_topic,
                "keywords": row.keywords,
            },
            ensure_ascii=False,
        )
        for row in rows
    ]
    data = "\n".join([*lines, ""]).encode("utf-8")
    table = pa_json.read_json(
        io.BytesIO(data),
        # One block read on one thread: a single chunk in row order.
        read_options=pa_json.ReadOptions(use_threads=False, block_size=max(len(data), 1 << 20)),
        parse_options=pa_json.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="error"),
    )
    with _atomic_file(path) as handle:
        pq.write_table(table, handle, compression="zstd")


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write a small JSON document atomically."""
    with _atomic_file(path) as handle:
        handle.write((json.dumps(payload, indent=2, sort_keys=True) + "\n").encode("utf-8"))


@contextmanager
def _atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at `path` only once it is completely written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same directory, so os.replace is a rename within one file system, never a copy. Opened with
    # "x" rather than mkstemp so the file gets the usual umask permissions, not 0600.
    tmp_path = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp_path, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
