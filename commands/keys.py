"""`priorauth keygen`: new payload-encryption keys, and the CODEC_KEYS value that rotates them in.

- ``priorauth keygen`` prints one ``CODEC_KEYS`` entry (``keyid:base64key``).
- ``priorauth keygen --rotate`` prints a whole new ``CODEC_KEYS`` value: a new key
  first (it encrypts from now on), then every current key (they still decrypt
  older histories). Deploy it to every worker, API and client together; drop an
  old key only once no open or retained history was written with it.

The value goes to stdout alone (so it can be piped into a secret store); the
advice goes to stderr. Keys are never logged.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keygen", help="generate a payload-encryption key (CODEC_KEYS entry)")
    p.add_argument("--id", dest="key_id", default=None, help="key id (default: random k<hex>)")
    p.add_argument(
        "--rotate",
        action="store_true",
        help="print the whole new CODEC_KEYS: a new key first, then the current CODEC_KEYS",
    )
    p.set_defaults(func=run_keygen)


def new_codec_keys(current: str, key_id: str | None = None) -> str:
    """``CODEC_KEYS`` with a fresh key in front of the (validated) ``current`` keys."""
    from infra.codec import CodecError, format_key, generate_key, generate_key_id, parse_keys

    keys, _ = parse_keys(current)
    key_id = key_id or generate_key_id()
    if key_id in keys:
        raise CodecError(f"key id {key_id!r} is already in CODEC_KEYS; pick another")
    entries = [format_key(key_id, generate_key())]
    entries += [format_key(k, v) for k, v in keys.items()]
    return ",".join(entries)


def run_keygen(args: argparse.Namespace) -> int:
    from infra.codec import CodecError

    current = ""
    if args.rotate:
        from infra.settings import get_settings

        current = get_settings().codec_keys
    try:
        value = new_codec_keys(current, args.key_id)
    except CodecError as exc:
        print(f"priorauth keygen: {exc}", file=sys.stderr)
        return 1
    print(value)
    if args.rotate:
        print(
            "Set CODEC_KEYS to this value on every worker and API: the first key now "
            "encrypts, the others still decrypt. Keep old keys while their histories live.",
            file=sys.stderr,
        )
    else:
        print(
            "Put this entry first in CODEC_KEYS (comma-separated) to make it the active key.",
            file=sys.stderr,
        )
    return 0
