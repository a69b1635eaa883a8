"""Token authentication that reads the token, its login and the login's holder in one fixed query.

Every investor endpoint needs the caller's holder (api.access.holder_of);
DRF's TokenAuthentication reads the token and its user, and holder_of
would then read the holder on its own. Here the holder comes in the same
query, and is left on the user for holder_of. Answers, messages and the
OpenAPI scheme (drf-spectacular matches subclasses) are DRF's.

The query is read on every request, never cached: a token deleted (revoked
or rotated) or a login deactivated is refused by the very next request,
whichever process or script changed it. What is saved is the ORM's work:
the SQL (a join of three tables, one parameter) is composed once per
process, and the three objects are built from its row as the ORM builds
them (Model.from_db, with each field's database converters). Profiled under
load, the select_related query spent more time being compiled than in
PostgreSQL.
"""
from django.db import connections, router
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from rest_framework import authentication, exceptions
from rest_framework.settings import api_settings

from trusts.models import Holder

# The attribute holder_of reads: the holder linked to the login, or None when there is none.
HOLDER_ATTRIBUTE = "_api_holder"


class _Part:
    """One model's columns in the query: where they are in the row, and how each value is read."""

    def __init__(self, model, alias: str, connection, start: int):
        fields = model._meta.concrete_fields
        self.model, self.start, self.stop = model, start, start + len(fields)
        self.attnames = [f.attname for f in fields]
        self.columns = [f"{alias}.{connection.ops.quote_name(f.column)}" for f in fields]
        # The converters the ORM applies to each column (e.g. time zones on SQLite), found once.
        self.converters = []
        for i, f in enumerate(fields):
            col = f.get_col(alias)
            found = connection.ops.get_db_converters(col) + f.get_db_converters(connection)
            if found:
                self.converters.append((i, found, col))

    def build(self, row, db: str, connection):
        values = list(row[self.start:self.stop])
        for i, converters, col in self.converters:
            for convert in converters:
                values[i] = convert(values[i], col, connection)
        return self.model.from_db(db, self.attnames, values)


class _TokenQuery:
    """SELECT token, user, holder FROM token JOIN user LEFT JOIN holder WHERE key = %s, for one database."""

    def __init__(self, token_model, db: str):
        user_model = token_model._meta.get_field("user").related_model
        connection = connections[db]
        q = connection.ops.quote_name
        self.token = _Part(token_model, "t", connection, 0)
        self.user = _Part(user_model, "u", connection, self.token.stop)
        self.holder = _Part(Holder, "h", connection, self.user.stop)
        self.holder_pk = self.holder.start + self.holder.attnames.index(Holder._meta.pk.attname)
        user_fk = q(token_model._meta.get_field("user").column)
        holder_fk = q(Holder._meta.get_field("user").column)
        self.sql = (
            f"SELECT {', '.join(self.token.columns + self.user.columns + self.holder.columns)} "
            f"FROM {q(token_model._meta.db_table)} t "
            f"JOIN {q(user_model._meta.db_table)} u ON u.{q(user_model._meta.pk.column)} = t.{user_fk} "
            f"LEFT JOIN {q(Holder._meta.db_table)} h ON h.{holder_fk} = u.{q(user_model._meta.pk.column)} "
            f"WHERE t.{q(token_model._meta.get_field('key').column)} = %s"
        )
        self.db = db

    def read(self, key: str):
        """(token, user, holder or None), or None when no token has this key."""
        connection = connections[self.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [key])
            row = cursor.fetchone()
        if row is None:
            return None
        token = self.token.build(row, self.db, connection)
        user = self.user.build(row, self.db, connection)
        token.user = user
        holder = None
        if row[self.holder_pk] is not None:
            holder = self.holder.build(row, self.db, connection)
            holder.user = user
        # user.holder answers from the row too (raising DoesNotExist for None), as select_related left it.
        _HOLDER_OF_USER.set_cached_value(user, holder)
        return token, user, holder


_HOLDER_OF_USER = Holder._meta.get_field("user").remote_field  # the reverse side, user.holder
_queries: dict[tuple[type, str], _TokenQuery] = {}


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        db = router.db_for_read(model)
        query = _queries.get((model, db))
        if query is None:
            query = _queries[(model, db)] = _TokenQuery(model, db)
        found = query.read(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token, user, holder = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        setattr(user, HOLDER_ATTRIBUTE, holder)
        return (user, token)


# The same scheme on the wire as DRF's (Authorization: Token ...): the schema's one "tokenAuth"
# component stands for both classes, so drf-spectacular need not warn that two classes share it.
set_override(TokenAuthentication, "suppress_collision_warning", True)


def with_holder(classes) -> list:
    """The configured authentication classes with DRF's token class replaced by the one above."""
    return [TokenAuthentication if cls is authentication.TokenAuthentication else cls for cls in classes]


# For the investor views (api.views.investor), which all need the holder: the project's
# authentication (settings.REST_FRAMEWORK) with the holder read in the token's query.
INVESTOR_AUTHENTICATION = with_holder(api_settings.DEFAULT_AUTHENTICATION_CLASSES)
