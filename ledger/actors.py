"""Who acts on the books: a person (an active staff login) or the system, named.

Two acts are four-eyes acts (a period close, a payment reversal): a person may
carry one out only with a second person's approval, while the system (the
month-end schedule, the reconciler, the demo, an operator's command on the
server) carries them out on its own, because what it pays follows from the
ledger alone. So the services that do them are told explicitly who acts:
- a person: a user row, recorded as the events' acting_user;
- the system: a `SystemActor`, a named object with no database user. The
  ledger records acting_user_id NULL for it, as it always has for the
  scheduler (its `pk` is None), so the log's format does not change.
Passing nobody (None) is not the system: a service that needs to know who
acts refuses it, so that a forgotten argument can never pass as the schedule.
Every writer of events names its actor: `acting_user: Actor` is a required
keyword argument of the ledger's append and of every service above it, and
the append checks it (`require_actor`), so no caller can drop it silently.

Which permission lets a person approve belongs to the approvals app, above
the ledger: it registers it here (`register_approve_permission`) from its
AppConfig.ready(). Until one is registered nobody's approval counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeAlias

if TYPE_CHECKING:  # a type only: this module imports no Django model, so it loads before the apps do
    from django.contrib.auth.base_user import AbstractBaseUser


@dataclass(frozen=True, slots=True)
class SystemActor:
    """The system acting on its own, by name (the scheduler, the reconciler, ...); no database user.

    `pk` is None so that code recording `getattr(actor, "pk", None)` (the ledger's acting_user_id)
    records NULL, exactly as for the schedule before actors were named.
    """

    name: str
    pk: ClassVar[None] = None
    is_active: ClassVar[bool] = False  # never a login: a user check on it fails closed

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("a system actor needs a name (what part of the system acts)")

    def get_username(self) -> None:
        return None  # names nobody on an event's payload (requested_by / approved_by stay null)

    def __str__(self) -> str:
        return f"system ({self.name})"


# The system's parts that carry out four-eyes acts on their own.
SCHEDULER = SystemActor("scheduler")  # the month-end schedule and the close tasks it fans out
RECONCILER = SystemActor("reconciler")  # the daily close of every period due and not closed
DEMO = SystemActor("demo")  # the demo command's year of servicing
OPERATOR_COMMAND = SystemActor("operator command")  # manage.py commands (close_period; others without --user)
# The scheduler's daily servicing jobs, each named for what it does (Celery beat runs them).
AGING = SystemActor("aging")  # the daily delinquency aging and late charges
AUTOPAY = SystemActor("autopay")  # the daily autopay drafts
ESCROW_DISBURSEMENT = SystemActor("escrow disbursement")  # the daily escrow disbursements due
TERMS_CHANGES = SystemActor("terms changes")  # the daily ARM rate changes and interest-only ends due

# Who records an event: a login (a user row) or the system by name. Never None.
Actor: TypeAlias = "AbstractBaseUser | SystemActor"


class ActorRequired(TypeError):
    """An event was to be recorded without saying who acts (None, or something that is no actor)."""


def require_actor(actor: object) -> Actor:
    """The actor, checked: a SystemActor or a user row; refuses None and anything else, naming it.

    A login that has no database row (an anonymous request, an unsaved user) is refused too: the
    ledger would record it as nobody (acting_user_id NULL), indistinguishable from the system.
    """
    if isinstance(actor, SystemActor):
        return actor
    from django.contrib.auth.base_user import AbstractBaseUser  # here: the apps are loaded by any call

    if actor is None:
        raise ActorRequired("no acting_user was given (None): name who acts, a staff login or a "
                            "ledger.actors.SystemActor such as SCHEDULER or OPERATOR_COMMAND")
    if not isinstance(actor, AbstractBaseUser):
        raise ActorRequired(f"acting_user must be a user or a ledger.actors.SystemActor, got "
                            f"{type(actor).__name__} {str(actor)!r}")
    if actor.pk is None:
        raise ActorRequired(f"acting_user {str(actor)!r} has no database row: it would be recorded as nobody")
    return actor


def is_system(actor) -> bool:
    """True for a SystemActor: the system acting on its own."""
    return isinstance(actor, SystemActor)


def is_person(actor) -> bool:
    """True for an active login with a database row (not the system, not anonymous, not None)."""
    return (not is_system(actor) and getattr(actor, "pk", None) is not None
            and bool(getattr(actor, "is_active", False)) and bool(getattr(actor, "is_authenticated", False)))


def database_user(actor):
    """The user row to record an act under: the person, or None for the system (and for nobody)."""
    return actor if getattr(actor, "pk", None) is not None and not is_system(actor) else None


def describe(actor) -> str:
    """The actor in words, for messages: the login's username, "system (scheduler)", or "nobody"."""
    if actor is None:
        return "nobody"
    if is_system(actor):
        return str(actor)
    username = actor.get_username() if hasattr(actor, "get_username") else None
    return username or "an anonymous login"


# --- Four eyes ----------------------------------------------------------------------------------------------

_approve_permission: list[str] = []


def register_approve_permission(permission: str) -> None:
    """Name the permission ("app_label.codename") a person needs to approve another's act (once)."""
    if permission not in _approve_permission:
        _approve_permission[:] = [permission]


def approve_permission() -> str | None:
    return _approve_permission[0] if _approve_permission else None


def may_approve(user) -> bool:
    """The user is an active login holding the registered approval permission."""
    permission = approve_permission()
    return bool(permission) and is_person(user) and user.has_perm(permission)


def four_eyes_problem(*, act: str, acting, approved_by=None) -> str | None:
    """Why `acting` may not carry out `act` (approved by `approved_by`), or None when it may.

    The system may on its own (and is never "approved": an approval is one person's check of
    another's). A person may only with an approval: approved_by is another active login who
    holds the approval permission. Nobody (None) may not: the caller must say who acts.
    """
    if is_system(acting):
        if approved_by is not None:
            return f"{act} by the {acting} takes no approval, got one by {describe(approved_by)}"
        return None
    if acting is None and approved_by is None:
        return (f"{act} needs an approval by a second staff member (four eyes), or an explicit system actor "
                "for the schedule; it was given neither")
    if not is_person(acting):
        return f"{act} needs the active staff login that asks for it, got {describe(acting)}"
    if approved_by is None:
        return (f"{act} was asked for by {describe(acting)} without an approval: ask for it through an "
                "approval request, which another staff member with approval permission decides (four eyes)")
    if is_system(approved_by) or not is_person(approved_by):
        return f"{act} must be approved by an active staff login, got {describe(approved_by)}"
    if approved_by.pk == acting.pk:
        return (f"{act} was asked for and approved by the same login, {describe(acting)}: another staff "
                "member must approve it (four eyes)")
    if not may_approve(approved_by):
        return (f"{act} was approved by {describe(approved_by)}, who does not hold the approval permission "
                f"({approve_permission() or 'none is registered'})")
    return None
