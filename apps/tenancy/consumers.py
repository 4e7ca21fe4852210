"""The live events feed: /ws/v1/events/[?organization=<id>].

The client authenticates with its access token (apps.accounts.websocket): best in its first
message, `{"type": "authenticate", "token": "<access token>"[, "organization": "<id>"]}`,
or as the subprotocols `["bearer", "<token>"]`; `?token=` is deprecated. Then it receives
`{"type": "connected", "organization_id"}` and subscribes to groups named by resource:
    {"action": "subscribe", "group": "org.<organization id>"}
Each subscription is checked against what the connection's tenant may see
(other contexts add their resources, e.g. `order.<id>`, with
`apps.core.live_groups.register_group_authorizer`). Domain events relayed from the outbox arrive as
    {"type": "event", "event": {"id", "event_type", "aggregate_type", "aggregate_id", "payload"}};
what a context pushes directly (a shipment's position, apps/tracking/live.py) arrives as it
was pushed, e.g. {"type": "location", ...}.
Other contexts also register socket actions and group hooks (apps.core.live_groups), so the
feed carries their protocol without code here: e.g. chat's
    {"action": "chat.typing", "thread_id": "<id>"}
allowed only once the socket has joined `thread.<id>` (else NOT_FOUND, like a stranger's);
an action that fails answers {"type": "error", "action", "error_code", "message", "details"
[, "client_id"][, "retry_after"]} and the socket stays. A context's hooks run when a socket
joins or leaves one of its groups (unsubscribe, close) and on each heartbeat (presence).
Every LIVE_FEED["HEARTBEAT_INTERVAL"] seconds it receives {"type": "heartbeat"}; the server
also pings at the WebSocket level. A socket stays open as long as the client keeps it, across
Redis restarts (docs/architecture.md "Live feed: every timeout").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError

from apps.accounts.selectors import session_is_live
from apps.accounts.websocket import BEARER_SUBPROTOCOL, user_for_token
from apps.core.channel_layer import REDIS_UNAVAILABLE
from apps.core.context import Scope, activate
from apps.core.errors import BACKING_SERVICE_ERRORS, DomainError, ErrorCode, NotFound, ValidationFailed
from apps.core.live_groups import (
    SocketAction,
    group_authorizer,
    group_hooks,
    register_group_authorizer,
    socket_action,
)
from apps.core.parsers import json_loads_checked
from apps.tenancy.resolver import NotAMember, memberships_by_organization, parse_organization_id, resolve_membership

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TENANT_DENIED = 4403
# A client's id for its own message (to match the answer to it), echoed as it came.
CLIENT_ID_MAX_LENGTH = 64

register_group_authorizer("org", lambda organization_id, resource_id: resource_id == str(organization_id))


def organization_group(organization_id) -> str:
    return f"org.{organization_id}"


@database_sync_to_async
def _organization_for(user_id, requested: str | None):
    """The organization the socket listens for: the same rule as HTTP (apps.tenancy.resolver);
    None (close 4403) when the one asked for is not the user's, or none was and they have several."""
    requested_id = None
    if requested:
        requested_id = parse_organization_id(requested)
        if requested_id is None:
            return None
    with activate(Scope(user_id=user_id)):
        memberships = memberships_by_organization(user_id=user_id)
    try:
        membership = resolve_membership(memberships, requested_id)
    except NotAMember:
        return None
    return membership.organization_id if membership is not None else None


@database_sync_to_async
def _close_code_now(user_id, session_id, organization_id) -> int | None:
    """The code to close a socket with now that its user signed out (or was revoked,
    deactivated, erased) or left the organization; None while they may still listen."""
    with activate(Scope(user_id=user_id)):
        if not session_is_live(user_id=user_id, session_id=session_id):
            return CLOSE_UNAUTHENTICATED
        if organization_id not in memberships_by_organization(user_id=user_id):
            return CLOSE_TENANT_DENIED
    return None


@database_sync_to_async
def _may_subscribe(user_id, organization_id, group: str) -> bool:
    kind, _, resource_id = group.partition(".")
    check = group_authorizer(kind)
    if check is None or not resource_id:
        return False
    with activate(Scope(user_id=user_id, organization_id=organization_id)):
        return bool(check(organization_id, resource_id))


class EventsConsumer(AsyncJsonWebsocketConsumer):
    organization_id = None
    # Set once the connection is closed or closing (the client left, or we closed it): nothing
    # more is sent, and the disconnect that follows still runs the goodbyes.
    connection_closed = False

    async def connect(self):
        self.groups_joined: set[str] = set()
        self.background: list[asyncio.Task] = []
        self.state: dict = {}  # the contexts' scratch space for this socket (apps.core.live_groups)
        # Hooks of one socket run one at a time: the heartbeat's `alive` and a message's
        # `joined`/`left` would otherwise interleave (a refresh racing an unsubscribe).
        self._hooks_running = asyncio.Lock()
        # Echo the subprotocol the token came with: a browser drops a socket whose server
        # picks none of the subprotocols it offered. Never echo the token itself.
        offered = self.scope.get("subprotocols") or []
        await self.accept(subprotocol=BEARER_SUBPROTOCOL if BEARER_SUBPROTOCOL in offered else None)
        if self.scope["user"].is_authenticated:
            await self._start_session(self.scope["user"], self._query_parameter("organization"))
        elif self.scope.get("credentials_presented"):
            # A token came and was refused: say so now. Accept, then close with a reason
            # code: a refused handshake would tell the client nothing.
            await self.close(code=CLOSE_UNAUTHENTICATED)
        else:
            self.background.append(asyncio.create_task(self._close_unless_authenticated()))

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # A client's message is text from outside, held to the API's JSON limits: nesting
        # deep enough to exhaust the decoder's recursion would otherwise end the consumer,
        # and the socket with it, instead of refusing one message.
        try:
            content = json_loads_checked(text_data if text_data is not None else bytes_data or b"")
        except ValidationFailed as error:
            await self.send_json({"type": "error", "error_code": error.code, "message": error.message})
            return
        except ValueError:  # not JSON, or not UTF-8
            await self.send_json(
                {"type": "error", "error_code": "VALIDATION_FIELD_INVALID", "message": "Send one JSON object."}
            )
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            content = {}
        if self.organization_id is None:
            await self._authenticate(content)
            return
        action = content.get("action")
        registered = socket_action(action) if isinstance(action, str) else None
        if registered is not None:
            await self._perform(action, registered, content)
            return
        group = str(content.get("group", ""))
        if action not in {"subscribe", "unsubscribe"} or not group:
            await self.send_json(
                {
                    "type": "error",
                    "error_code": "VALIDATION_FIELD_INVALID",
                    "message": 'Send {"action": "subscribe"|"unsubscribe", "group": "<kind>.<id>"}'
                    " or another action the feed knows.",
                }
            )
            return
        if action == "unsubscribe":
            if group in self.groups_joined:
                self.groups_joined.discard(group)
                await self._leave(group)
                await self._run_hook("left", group)
            # After the hooks: what they tell the group (a user gone offline) comes before
            # anything the client does once it has this answer.
            await self.send_json({"type": "unsubscribed", "group": group})
            return
        if not await _may_subscribe(self.scope["user"].id, self.organization_id, group):
            # Same answer for "does not exist" and "not yours": cross-tenant reads are 404s.
            await self.send_json(
                {"type": "error", "error_code": "NOT_FOUND", "group": group, "message": "No such resource."}
            )
            return
        # Joined from now on, even if Redis is away this instant: the heartbeat adds it then.
        self.groups_joined.add(group)
        await self._join(group)
        await self.send_json({"type": "subscribed", "group": group})
        await self._run_hook("joined", group)

    async def disconnect(self, code):
        for task in self.background:
            task.cancel()
        # Let a cancelled heartbeat finish unwinding first: its hooks must not land after
        # the `left` ones below (a presence refresh after the goodbye would outlive it).
        await asyncio.gather(*self.background, return_exceptions=True)
        for group in self.groups_joined:
            await self._leave(group)
        for group in list(self.groups_joined):
            await self._run_hook("left", group)

    async def event_message(self, message):
        await self.send_json({"type": "event", "event": message["event"]})

    async def live_message(self, message):
        # Pushed straight to the group by a context (apps.core.live_groups.live_message), e.g.
        # a shipment's position: the subscription was checked, the content is sent as it is.
        await self.send_json(message["content"])

    # --- sending to a client that may have gone --------------------------------------------

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Send to the client; nothing once the connection is closed or closing.

        ASGI servers raise an OSError for a send on a closed connection (uvicorn's
        ClientDisconnected, which it then swallows). Raised while a group message or a hook is
        being handled, it would end the consumer before `disconnect` ran: the socket would stay
        in its groups, and its `left` hooks would never run (a user online until the sweep).
        The server queues the websocket.disconnect, which comes next."""
        if self.connection_closed:
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except OSError:
            self.connection_closed = True

    async def send_json(self, content, close=False):
        # Through `send` above: channels' own send_json goes straight to its parent's.
        await self.send(text_data=await self.encode_json(content), close=close)

    async def close(self, code=None, reason=None):
        # After our close the server refuses any send (uvicorn: RuntimeError), and a message
        # already on its way to this consumer would end it before `disconnect` ran.
        if self.connection_closed:
            return
        self.connection_closed = True
        with contextlib.suppress(OSError):
            await super().close(code=code, reason=reason)

    # --- authentication ---------------------------------------------------------------

    def _query_parameter(self, name: str) -> str | None:
        return parse_qs(self.scope.get("query_string", b"").decode()).get(name, [None])[0]

    async def _authenticate(self, content: dict) -> None:
        """The first message of a socket opened without credentials must carry them."""
        token = content.get("token")
        if content.get("type") != "authenticate" or not isinstance(token, str) or not token:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        user = await user_for_token(token)
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.scope["user"] = user
        requested = content.get("organization") or self._query_parameter("organization")
        await self._start_session(user, str(requested) if requested else None)

    async def _close_unless_authenticated(self) -> None:
        await asyncio.sleep(settings.LIVE_FEED["AUTHENTICATE_TIMEOUT"])
        if self.organization_id is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _start_session(self, user, requested: str | None) -> None:
        self.organization_id = await _organization_for(user.id, requested)
        if self.organization_id is None:
            await self.close(code=CLOSE_TENANT_DENIED)
            return
        self.background.append(asyncio.create_task(self._heartbeat()))
        await self.send_json({"type": "connected", "organization_id": str(self.organization_id)})

    # --- staying connected ------------------------------------------------------------

    async def _heartbeat(self) -> None:
        """Tell the client the feed is alive, and re-add this socket to its groups: a
        membership expires after the layer's group_expiry, and a Redis restart loses it."""
        while True:
            await asyncio.sleep(settings.LIVE_FEED["HEARTBEAT_INTERVAL"])
            # The token was checked once, at connect; a socket open for hours must not outlive
            # a sign-out, a revoked session or a membership ended since.
            try:
                close_code = await _close_code_now(
                    self.scope["user"].id, self.scope["user"].auth_session_id, self.organization_id
                )
            except DatabaseError as error:  # the socket stays; the next heartbeat asks again
                logger.warning("live_feed.standing_check_failed", extra={"error": repr(error)})
                close_code = None
            if close_code is not None:
                await self.close(code=close_code)
                return
            for group in list(self.groups_joined):
                await self._join(group)
            await self._run_alive_hooks()
            await self.send_json({"type": "heartbeat"})

    async def _join(self, group: str) -> None:
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except REDIS_UNAVAILABLE as error:
            # The socket stays; the next heartbeat adds the membership once Redis is back.
            logger.warning("live_feed.group_add_failed", extra={"group": group, "error": repr(error)})

    async def _leave(self, group: str) -> None:
        with contextlib.suppress(*REDIS_UNAVAILABLE):  # the membership expires on its own
            await self.channel_layer.group_discard(group, self.channel_name)

    # --- other contexts' actions and hooks (apps.core.live_groups) --------------------

    @property
    def user_id(self):
        return self.scope["user"].id

    def has_joined(self, group: str) -> bool:
        return group in self.groups_joined

    async def _perform(self, name: str, action: SocketAction, content: dict) -> None:
        """Run a registered action; whatever it raises is answered, and the socket stays."""
        client_id = content.get("client_id")
        if client_id is not None and not (isinstance(client_id, str) and 0 < len(client_id) <= CLIENT_ID_MAX_LENGTH):
            error = ValidationFailed(
                f"client_id must be a string of 1 to {CLIENT_ID_MAX_LENGTH} characters.",
                details={"client_id": ["Invalid."]},
            )
            await self._send_action_error(name, error, client_id=None)
            return
        try:
            if action.requires_group is not None:
                group = action.requires_group(content)
                if group is None or group not in self.groups_joined:
                    # Never subscribed, refused, or no such resource: one answer for all.
                    raise NotFound("No such resource.")
            await action.handler(self, content)
        except DomainError as error:
            await self._send_action_error(name, error, client_id=client_id)
        except (*BACKING_SERVICE_ERRORS, *REDIS_UNAVAILABLE) as error:
            logger.warning("live_feed.action_unavailable", extra={"action": name, "error": repr(error)})
            unavailable = DomainError(
                "A service the platform depends on is unavailable. Try again shortly.",
                code=ErrorCode.EXTERNAL_SERVICE_UNAVAILABLE,
                status_code=503,
                headers={"Retry-After": "5"},
            )
            await self._send_action_error(name, unavailable, client_id=client_id)
        except Exception:
            logger.exception("live_feed.action_failed", extra={"action": name})
            failed = DomainError("An unexpected error occurred.", code=ErrorCode.INTERNAL_SERVER_ERROR, status_code=500)
            await self._send_action_error(name, failed, client_id=client_id)

    async def _send_action_error(self, name: str, error: DomainError, *, client_id: str | None) -> None:
        answer = {
            "type": "error",
            "action": name,
            "error_code": str(error.code),
            "message": error.message,
            "details": error.details,
        }
        if client_id is not None:
            answer["client_id"] = client_id
        retry_after = error.headers.get("Retry-After")
        if retry_after is not None:
            with contextlib.suppress(TypeError, ValueError):
                answer["retry_after"] = int(retry_after)
        await self.send_json(answer)

    async def _run_hook(self, which: str, group: str) -> None:
        kind, _, resource_id = group.partition(".")
        hooks = group_hooks(kind)
        hook = getattr(hooks, which) if hooks is not None else None
        if hook is None:
            return
        async with self._hooks_running:
            try:
                await hook(self, resource_id)
            except Exception:  # a context's failure must not end the socket
                logger.exception("live_feed.hook_failed", extra={"hook": which, "group": group})

    async def _run_alive_hooks(self) -> None:
        async with self._hooks_running:
            # The groups are read once the lock is held: one left while a `left` hook ran must
            # not be refreshed after it (its presence would outlive the goodbye).
            by_kind: dict[str, list[str]] = {}
            for group in self.groups_joined:
                kind, _, resource_id = group.partition(".")
                by_kind.setdefault(kind, []).append(resource_id)
            for kind, resource_ids in by_kind.items():
                hooks = group_hooks(kind)
                if hooks is None or hooks.alive is None:
                    continue
                try:
                    await hooks.alive(self, sorted(resource_ids))
                except Exception:
                    logger.exception("live_feed.hook_failed", extra={"hook": "alive", "kind": kind})
