"""Activity events as COPY text: time-ordered ids, skewed per user, ~payload_bytes of JSON each.

Speed matters (1M events must seed in well under two minutes), so payloads are filled-in string
templates rather than json.dumps of dicts, and every value comes from a closed set of strings
with no quote, backslash, tab or newline: each line is valid COPY text without escaping.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from random import Random

from stack_launcher.seed.people import EVENT_WINDOW, HOBBIES, SeedUser
from stack_launcher.seed.scales import Scale

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# (kind, weight out of 100, acted by the user itself): the feed shows each event's actor, and
# about a third of a user's events are someone else acting on them.
KINDS = (
    ("login", 40, True),
    ("post.created", 20, True),
    ("profile.updated", 6, True),
    ("report.done", 4, True),
    ("like", 14, False),
    ("comment", 8, False),
    ("follow", 4, False),
    ("mention", 4, False),
)
_KIND_TABLE = [(kind, own) for kind, weight, own in KINDS for _ in range(weight)]

_USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/138.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "okhttp/4.12.0 (Android 15; Pixel 9)",
)
_CLIENTS = ('"web", "version": "3.14.2", "platform": "browser"',
            '"ios", "version": "3.13.0", "platform": "iPhone"',
            '"android", "version": "3.13.1", "platform": "Pixel"',
            '"cli", "version": "0.9.4", "platform": "linux"')  # fmt: skip
_GEO = ('"DE", "city": "Berlin", "lat": 52.52, "lon": 13.405',
        '"FR", "city": "Lyon", "lat": 45.764, "lon": 4.8357',
        '"JP", "city": "Osaka", "lat": 34.6937, "lon": 135.5023',
        '"BR", "city": "Recife", "lat": -8.0476, "lon": -34.877',
        '"US", "city": "Denver", "lat": 39.7392, "lon": -104.9903',
        '"NG", "city": "Lagos", "lat": 6.5244, "lon": 3.3792')  # fmt: skip
_REACTIONS = ("like", "love", "laugh", "wow")
_FIELDS = ('"bio"', '"avatar_url"', '"display_name"', '"bio", "avatar_url"')
_WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris "
    "nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse "
    "cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui "
    "officia deserunt mollit anim id est laborum"
).split()
_TEXT_RNG = Random(0)
_TEXT = " ".join(_TEXT_RNG.choice(_WORDS) for _ in range(4_000))  # ~24 KB to slice from


def event_chunks(
    scale: Scale,
    seed: int,
    reference_time: datetime,
    users: list[SeedUser],
    *,
    rows_per_chunk: int = 2_000,
) -> Iterator[tuple[int, bytes]]:
    """Yield (rows, COPY text) chunks of events 1..scale.events, oldest first.

    Times fall in the 90 days before reference_time, denser towards it, never before the user
    registered. The user of each event is drawn among those registered by then, weighted by
    their Pareto `activity`, so a few users carry a large share of all events.
    """
    rng = Random(f"{seed}/events")
    rand, bits = rng.random, rng.getrandbits
    cum_activity = list(accumulate(user.activity for user in users))
    registered_us = [_micros_since_epoch(user.created_at) for user in users]
    end_us = _micros_since_epoch(reference_time)
    window_us = EVENT_WINDOW // timedelta(microseconds=1)
    payload = _PayloadWriter(rng, scale.payload_bytes)

    eligible = 0  # users 1..eligible registered at or before the current event time
    position = 1.0  # descending order statistic of uniforms: generates sorted times in one pass
    lines: list[str] = []
    for event_id in range(1, scale.events + 1):
        position *= rand() ** (1.0 / (scale.events - event_id + 1))
        at_us = end_us - int(window_us * position**1.5)
        while eligible < len(users) and registered_us[eligible] <= at_us:
            eligible += 1
        pool = max(eligible, 1)
        user_id = bisect_right(cum_activity, rand() * cum_activity[pool - 1], 0, pool - 1) + 1
        kind, own = _KIND_TABLE[bits(16) % 100]
        actor_id = user_id
        if not own and pool > 1:
            actor_id = bisect_right(cum_activity, rand() * cum_activity[pool - 1], 0, pool - 1) + 1
            if actor_id == user_id:
                actor_id = user_id % pool + 1
        created_at = (EPOCH + timedelta(microseconds=at_us)).isoformat()
        body = payload.write(kind, actor_id)
        lines.append(f"{event_id}\t{user_id}\t{actor_id}\t{kind}\t{body}\t{created_at}\n")
        if len(lines) == rows_per_chunk:
            yield len(lines), "".join(lines).encode()
            lines.clear()
    if lines:
        yield len(lines), "".join(lines).encode()


class _PayloadWriter:
    """Fill one of a handful of nested-JSON templates with per-row values, padded to size."""

    def __init__(self, rng: Random, payload_bytes: int) -> None:
        self._rand, self._bits, self._choice = rng.random, rng.getrandbits, rng.choice
        self._target = payload_bytes
        self._pool = _TEXT * (1 + (2**14 + payload_bytes) // len(_TEXT))
        self._data: dict[str, Callable[[int], str]] = {
            "login": self._login,
            "post.created": self._post,
            "profile.updated": self._profile,
            "report.done": self._report,
            "like": self._like,
            "comment": self._comment,
            "follow": self._follow,
            "mention": self._mention,
        }

    def write(self, kind: str, actor_id: int) -> str:
        bits, choice = self._bits, self._choice
        ip = bits(24)
        head = (
            f'{{"v": 2, "kind": "{kind}", "request": {{"id": "{bits(128):032x}", '
            f'"ip": "10.{ip >> 16}.{(ip >> 8) & 255}.{ip & 255}", '
            f'"user_agent": "{choice(_USER_AGENTS)}"}}, "client": {{"app": {choice(_CLIENTS)}}}, '
            f'"data": {self._data[kind](actor_id)}, "tags": ["{choice(HOBBIES)}", '
            f'"{choice(_WORDS)}"], "note": "'
        )
        room = max(0, self._target - len(head) - 2 + bits(7) - 64)
        start = bits(14)
        return f'{head}{self._pool[start : start + room]}"}}'

    def _text(self, size: int) -> str:
        start = self._bits(14)
        return self._pool[start : start + size]

    def _login(self, actor_id: int) -> str:
        return (
            f'{{"method": "password", "mfa": {"true" if self._rand() < 0.2 else "false"}, '
            f'"geo": {{"country": {self._choice(_GEO)}}}, '
            f'"session": {{"ttl_s": 900, "refresh_ttl_s": 1209600, "remember": true}}}}'
        )

    def _post(self, actor_id: int) -> str:
        return (
            f'{{"post": {{"id": {self._bits(24)}, "title": "{self._text(40).strip()}", '
            f'"visibility": "{"public" if self._rand() < 0.8 else "followers"}", '
            f'"word_count": {self._bits(10)}, "attachments": [{{"type": "image", '
            f'"bytes": {self._bits(20)}, "width": 1280, "height": 720}}]}}}}'
        )

    def _profile(self, actor_id: int) -> str:
        return (
            f'{{"fields": [{self._choice(_FIELDS)}], "via": "settings", '
            f'"previous": {{"bio_length": {self._bits(7)}, "had_avatar": '
            f"{'true' if self._rand() < 0.5 else 'false'}}}}}"
        )

    def _report(self, actor_id: int) -> str:
        return (
            f'{{"report": {{"kind": "activity_pdf", "days": {self._choice((7, 30, 90))}, '
            f'"pages": {1 + self._bits(3)}, "bytes": {self._bits(18)}, '
            f'"duration_ms": {self._bits(13)}, "delivered": ["email"]}}}}'
        )

    def _like(self, actor_id: int) -> str:
        return (
            f'{{"actor": {{"id": {actor_id}}}, "target": {{"type": "post", '
            f'"id": {self._bits(24)}}}, "reaction": "{self._choice(_REACTIONS)}"}}'
        )

    def _comment(self, actor_id: int) -> str:
        return (
            f'{{"actor": {{"id": {actor_id}}}, "post_id": {self._bits(24)}, '
            f'"comment": {{"id": {self._bits(30)}, "text": "{self._text(120).strip()}", '
            f'"reply_to": {self._bits(30) if self._rand() < 0.3 else "null"}}}}}'
        )

    def _follow(self, actor_id: int) -> str:
        mutual = "true" if self._rand() < 0.4 else "false"
        return f'{{"actor": {{"id": {actor_id}}}, "mutual": {mutual}, "source": "suggested"}}'

    def _mention(self, actor_id: int) -> str:
        return (
            f'{{"actor": {{"id": {actor_id}}}, "post_id": {self._bits(24)}, '
            f'"excerpt": "{self._text(80).strip()}"}}'
        )


def _micros_since_epoch(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)
