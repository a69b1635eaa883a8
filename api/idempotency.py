"""Idempotency-Key for write endpoints: one effect per key, the first answer replayed.

How a write with a key runs:
1. Claim: insert (user, key, fingerprint) in state "in progress" in its own
   short transaction. The unique constraint on (user, key) means only one
   request can hold the claim; a concurrent duplicate's insert waits for the
   first commit, then fails, and that duplicate waits on the row instead.
2. Run the view and save its response on the claimed row in one transaction
   with the view's effect, so "effect happened" and "answer remembered" are
   never apart.
3. A duplicate finds the row: different fingerprint (method, path and body)
   -> 422; done -> the stored answer again, with no second effect; still in
   progress -> wait briefly for it, then 409 if it has not finished.
Answers that say "try again" (409 and 5xx) are not remembered: the claim is
released so the same key can be retried.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.errors import ApiError
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII without spaces, as a header allows
POLL_SECONDS = 0.05
# A claim this old belongs to a request that died: its effect rolled back with it, so it may be taken over.
STALE_AFTER = timedelta(minutes=10)

HEADER_PARAMETER = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False, pattern=f"^{KEY_PATTERN.pattern}$",
    description="Any unique string (a UUID is a good choice). The same key with the same request replays the "
                "first answer without a second effect; with a different request it is refused (422).",
)


def idempotent(handler):
    """Decorate a view's write handler (post) to honour the Idempotency-Key header."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            raise ApiError(status.HTTP_400_BAD_REQUEST, "invalid_idempotency_key",
                           f"{HEADER} must be 1 to 200 printable characters without spaces.")
        record, replay = _claim(request.user, key, fingerprint(request))
        if replay is not None:
            return replay
        return _run(record, lambda: _respond(view, handler, request, args, kwargs))

    wrapper.idempotent = True  # read by api.schema to document the header
    return wrapper


def fingerprint(request) -> str:
    """sha256 over method, path with query and the parsed body (files by their content)."""
    body = json.dumps(_canonical(request.data), sort_keys=True, separators=(",", ":"))
    text = "\n".join((request.method, request.get_full_path(), body))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(data):
    if isinstance(data, QueryDict):
        return {key: [_canonical(v) for v in data.getlist(key)] for key in data}
    if isinstance(data, dict):
        return {str(k): _canonical(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_canonical(v) for v in data]
    if isinstance(data, UploadedFile):
        digest = hashlib.sha256()
        for chunk in data.chunks():
            digest.update(chunk)
        data.seek(0)
        return {"file_sha256": digest.hexdigest()}
    return data


def _claim(user, key: str, print_: str) -> tuple[IdempotencyRecord | None, Response | None]:
    deadline = time.monotonic() + settings.API_IDEMPOTENCY_WAIT_SECONDS
    while True:
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=print_,
                                                        claimed_at=timezone.now()), None
        except IntegrityError:
            pass  # somebody holds or held this key: look at what they did
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None and time.monotonic() <= deadline:
            continue  # released between our insert and our read: claim again
        if existing is None:
            raise _in_progress(key)
        if existing.fingerprint != print_:
            raise ApiError(status.HTTP_422_UNPROCESSABLE_ENTITY, "idempotency_key_reused",
                           f"{HEADER} {key!r} was used before for a different request; use a new key "
                           "for a new request.")
        if existing.state == IdempotencyRecord.State.DONE:
            return None, _replay(existing)
        if _take_over(existing):
            return existing, None
        if time.monotonic() > deadline:
            raise _in_progress(key)
        time.sleep(POLL_SECONDS)


def _in_progress(key: str) -> ApiError:
    return ApiError(status.HTTP_409_CONFLICT, "idempotency_key_in_progress",
                    f"A request with {HEADER} {key!r} is still being processed; ask again shortly.")


def _take_over(record: IdempotencyRecord) -> bool:
    if record.claimed_at > timezone.now() - STALE_AFTER:
        return False
    # Conditional on the old claim time: of two requests taking over at once, one wins.
    return IdempotencyRecord.objects.filter(pk=record.pk, state=record.state, claimed_at=record.claimed_at).update(
        claimed_at=timezone.now()) == 1


def _respond(view, handler, request, args, kwargs) -> Response:
    try:
        return handler(view, request, *args, **kwargs)
    except Exception as error:  # noqa: BLE001 - rendered in the one error shape, and remembered like any answer
        return view.handle_exception(error)


class _Unremembered(Exception):
    def __init__(self, response: Response):
        self.response = response


def _run(record: IdempotencyRecord, respond) -> Response:
    try:
        with transaction.atomic():
            response = respond()
            if response.status_code == status.HTTP_409_CONFLICT or response.status_code >= 500:
                raise _Unremembered(response)  # rolls back whatever the attempt did
            _remember(record, response)
            return response
    except _Unremembered as unremembered:
        _release(record)
        return unremembered.response
    except BaseException:
        _release(record)
        raise


def _remember(record: IdempotencyRecord, response: Response) -> None:
    # Stored as the JSON the client receives, and the first answer is given from the same data,
    # so the first response and every replay are byte for byte the same.
    text = JSONRenderer().render(response.data).decode()
    response.data = json.loads(text)
    record.state, record.status_code, record.response_body = IdempotencyRecord.State.DONE, response.status_code, text
    record.location, record.completed_at = response.get("Location", ""), timezone.now()
    record.save(update_fields=["state", "status_code", "response_body", "location", "completed_at"])


def _release(record: IdempotencyRecord) -> None:
    with transaction.atomic():
        IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).delete()


def _replay(record: IdempotencyRecord) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if record.location:
        headers["Location"] = record.location
    return Response(json.loads(record.response_body), status=record.status_code, headers=headers)
