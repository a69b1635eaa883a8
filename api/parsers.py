"""The API's JSON parser: DRF's, refusing an object that gives one key twice.

Python's json module keeps the last of two equal keys and says nothing, so
{"amount": "1.00", "amount": "1000.00"} would be read as whichever came last,
while a proxy, a log or an auditor's tool in front of the API may read the
first. A body that means two things is refused (400, naming the key) instead.
"""
import codecs

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils import json


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(f"the key {key[:80]!r} is given twice in one object; give each key once")


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    found = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


class StrictJSONParser(JSONParser):
    """JSONParser (the same encodings and strict constants) that answers 400 for a key given twice."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        try:
            decoded_stream = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if self.strict else None
            return json.load(decoded_stream, parse_constant=parse_constant,
                             object_pairs_hook=_object_without_duplicates)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
