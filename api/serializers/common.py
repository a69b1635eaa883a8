"""Shapes shared by several endpoints: errors, file problems, uploads, events of the log."""

from rest_framework import serializers

from api.fields import MoneyField, ReportField, StrictSerializer

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="machine-readable, e.g. invalid, not_found, file_rejected")
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.JSONField(), help_text="field name -> list of problems")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


class ProblemSerializer(serializers.Serializer):
    """A bad row of an uploaded file: its line (the header is line 1) and why."""

    line = serializers.IntegerField()
    reason = serializers.CharField()


class PreviewQuerySerializer(StrictSerializer):
    preview = serializers.BooleanField(default=False, help_text="true: report what would happen, record nothing")

    @classmethod
    def wanted(cls, request) -> bool:
        query = cls(data={k: v for k, v in request.query_params.items() if k == "preview"})
        query.is_valid(raise_exception=True)
        return query.validated_data["preview"]


class UploadSerializer(StrictSerializer):
    file = serializers.FileField(help_text="the file, UTF-8 CSV (or JSON for a deal file)")

    def validate_file(self, upload):
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
        # A NUL byte is never part of a text file, and no database text column can hold one.
        if any(b"\x00" in chunk for chunk in upload.chunks()):
            raise serializers.ValidationError("The file contains NUL bytes; send a UTF-8 text file.")
        upload.seek(0)
        return upload

    def raw(self) -> bytes:
        upload = self.validated_data["file"]
        return b"".join(upload.chunks())


class PostingSerializer(serializers.Serializer):
    account = serializers.CharField()
    amount = MoneyField(source="amount_cents", help_text="positive is a debit, negative a credit")


class EventSerializer(serializers.Serializer):
    """An event of the log; money in the payload as dollar strings with the `_cents` suffix dropped."""

    position = serializers.IntegerField()
    stream = serializers.CharField()
    version = serializers.IntegerField()
    event_type = serializers.CharField()
    effective_date = serializers.DateField()
    recorded_at = serializers.DateTimeField()
    acting_user = serializers.CharField(source="acting_user.username", default=None, allow_null=True)
    idempotency_key = serializers.CharField(allow_null=True)
    payload = ReportField()
    postings = PostingSerializer(many=True, source="postings.all")
    hash = serializers.CharField()
