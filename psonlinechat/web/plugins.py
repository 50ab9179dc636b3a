"""One pluggy plugin manager per app, and the calls the rest of the module makes through it.

:func:`create_manager` adds the specifications of :mod:`psonlinechat.hookspecs`, loads
every plugin of the entry-point group ``psonlinechat`` (the built-in handlers of
``psonlinechat.hooks`` included, registered ``trylast``), then the host's own plugin
objects, then the host's loaders (:class:`HostLoaders`, ``tryfirst``). pluggy asks the
later-registered plugins first, so the calling order is: the host's loaders, the host's
plugins in the order given, the entry-point plugins, the built-in handlers (for the
``identify_*`` hooks: the shop's cookies).

Identity works from a WSGI environ (:func:`visitor_of`, :func:`employee_of`), so a WSGI
middleware or a hook handler can ask who is there without a Flask request.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import flask
import pluggy

from psonlinechat import hookspecs
from psonlinechat.errors import PsOnlineChatError
from psonlinechat.hookspecs import HookContext, hookimpl
from psonlinechat.shop.database import ShopDatabase
from psonlinechat.shop.identity import Employee, Visitor
from psonlinechat.shop.request_facts import RequestFacts

logger = logging.getLogger(__name__)

#: The entry-point group plugins are registered in (``[options.entry_points]``).
ENTRY_POINT_GROUP = "psonlinechat"

_VISITOR_KEY = "psonlinechat.visitor"
_EMPLOYEE_KEY = "psonlinechat.employee"

#: The WSGI environ whose identity is being asked, for the host's loaders (which receive a
#: Flask request made from it).
_environ: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "psonlinechat_environ", default=None)

#: The host's employee loader said "nobody": a final answer, which ``firstresult`` would
#: otherwise pass over (``None``) and ask the shop's cookies instead.
_NOBODY = object()


class Loaders(Protocol):
    """Where the host's own identity functions are found (:class:`~psonlinechat.OnlineChat`)."""

    visitor_loader_function: Callable[[Any], Visitor] | None
    employee_loader_function: Callable[[Any], Employee | None] | None


class HostLoaders:
    """``OnlineChat(identify_visitor=…, identify_employee=…)`` and the ``@visitor_loader`` /
    ``@employee_loader`` decorators as a plugin, asked first (``tryfirst``).

    The loaders are read at each call, so decorating after ``init_app`` works. A loader
    receives the Flask request (one made from the WSGI environ when there is none) and
    replaces every other source: its ``None`` for an employee means nobody.
    """

    def __init__(self, loaders: Loaders) -> None:
        self.loaders = loaders

    @hookimpl(tryfirst=True)
    def identify_visitor(self, request: RequestFacts) -> Visitor | None:
        loader = self.loaders.visitor_loader_function
        return None if loader is None else loader(_flask_request(request))

    @hookimpl(tryfirst=True)
    def identify_employee(self, request: RequestFacts) -> Employee | object | None:
        loader = self.loaders.employee_loader_function
        if loader is None:
            return None
        employee = loader(_flask_request(request))
        return _NOBODY if employee is None else employee


def _flask_request(facts: RequestFacts) -> flask.Request:
    """The Flask request ``facts`` were made from: the current one when it is, else one made
    from the environ being identified.

    :raises RuntimeError: the hook was called with no environ to make a request from.
    """
    environ = _environ.get()
    if flask.has_request_context():
        current = _current_request()
        if current.environ is environ or (
                environ is None and RequestFacts.of(current.environ) is facts):
            return current
    if environ is None:
        raise RuntimeError("the host's identity loaders need the request: identify through "
                           "get_state().visitor_of(environ) / employee_of(environ)")
    return flask.Request(environ)


def create_manager(loaders: Loaders, plugins: Iterable[object] = ()) -> pluggy.PluginManager:
    """A new plugin manager for one app: the specs, the entry-point plugins, ``plugins``
    (registered so that pluggy calls them in the order given), then ``loaders`` as
    :class:`HostLoaders`.

    :raises pluggy.PluginValidationError: a plugin implements a hook with arguments the spec
        lacks, or a hook that does not exist (a misspelt name).
    :raises ImportError: an entry point names a module that cannot be imported.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in reversed(list(plugins)):
        pm.register(plugin)
    pm.register(HostLoaders(loaders), name="psonlinechat.host_loaders")
    pm.check_pending()
    return pm


# --- identity ------------------------------------------------------------------------------

def visitor_of(pm: pluggy.PluginManager, shop: ShopDatabase, environ: dict[str, Any]) -> Visitor:
    """The visitor of the request ``environ`` describes, asked of the ``identify_visitor``
    hook once per request (kept in the environ).

    :raises ShopError: the database is unreachable.
    :raises PsOnlineChatError: no plugin answered (the cookie plugin was blocked).
    """
    if _VISITOR_KEY not in environ:
        visitor = _identify(pm.hook.identify_visitor, shop, environ)
        if visitor is None:
            raise PsOnlineChatError("no identify_visitor plugin recognised the visitor")
        environ[_VISITOR_KEY] = visitor
    return environ[_VISITOR_KEY]


def employee_of(pm: pluggy.PluginManager, shop: ShopDatabase,
                environ: dict[str, Any]) -> Employee | None:
    """The employee of the request ``environ`` describes, or ``None``, asked of the
    ``identify_employee`` hook once per request (kept in the environ).

    :raises ShopError: the database is unreachable.
    """
    if _EMPLOYEE_KEY not in environ:
        employee = _identify(pm.hook.identify_employee, shop, environ)
        environ[_EMPLOYEE_KEY] = None if employee is _NOBODY else employee
    return environ[_EMPLOYEE_KEY]


def _identify(hook: pluggy.HookCaller, shop: ShopDatabase, environ: dict[str, Any]) -> Any:
    """Call an ``identify_*`` hook on the request's facts, ``environ`` at hand for the host's
    loaders."""
    token = _environ.set(environ)
    try:
        return hook(request=RequestFacts.of(environ), shop=shop)
    finally:
        _environ.reset(token)


# --- display and action hooks ------------------------------------------------------------

def display(pm: pluggy.PluginManager, name: str, context: HookContext) -> str:
    """Every plugin's HTML for the ``display_*`` hook ``name``, joined in calling order.

    :raises ValueError: there is no such display hook.
    :raises Exception: whatever a plugin raised (a page should show the failure).
    """
    hook = getattr(pm.hook, name, None) if name.startswith("display_") else None
    if hook is None:
        raise ValueError(f"no display hook named {name!r}")
    return "\n".join(html for html in hook(context=context) if html)


def actions_for(pm: pluggy.PluginManager) -> Callable[..., None]:
    """``actions(name, **event)`` for the chat core: tells every plugin's ``action_*`` hook
    ``name`` of a committed change. Never raises: a plugin that fails is logged and the
    others still hear the event; an unknown hook or wrong arguments are logged too.
    """
    def actions(name: str, /, **event: Any) -> None:
        hook = getattr(pm.hook, name, None) if name.startswith("action_") else None
        if hook is None or hook.spec is None or set(event) != set(hook.spec.argnames):
            logger.error("psonlinechat: no action hook %s(%s)", name, ", ".join(sorted(event)))
            return
        impls = hook.get_hookimpls()
        if any(impl.hookwrapper or impl.wrapper for impl in impls):
            _guarded(name, "a wrapped call", functools.partial(hook, **event))
            return
        for impl in reversed(impls):  # pluggy's own calling order
            arguments = [event[argname] for argname in impl.argnames]
            _guarded(name, _plugin_name(impl), functools.partial(impl.function, *arguments))

    return actions


def _plugin_name(impl: pluggy.HookImpl) -> str:
    """The name a plugin was registered under, or its module's or class's name when pluggy
    made one up (its ``id``)."""
    if impl.plugin_name != str(id(impl.plugin)):
        return impl.plugin_name
    return getattr(impl.plugin, "__name__", None) or type(impl.plugin).__qualname__


def _guarded(name: str, plugin: str, call: Callable[[], Any]) -> None:
    """``call()``, logging (not raising) what it raises."""
    try:
        call()
    except Exception:
        logger.exception("psonlinechat: plugin %s failed in %s; the chat goes on", plugin, name)


def renderer(app: flask.Flask) -> Callable[..., str]:
    """``render(template_name, **variables) -> str`` with ``app``'s templates (the module's
    ``psonlinechat/…`` ones, or the host's at the same path), inside or outside a request.
    """
    app_ref = weakref.ref(app)

    def render(template_name: str, **variables: Any) -> str:
        target = app_ref()
        if target is None:
            raise RuntimeError("the app this renderer served is gone")
        if flask.has_app_context() and _current_app() is target:
            return flask.render_template(template_name, **variables)
        with target.app_context():
            return flask.render_template(template_name, **variables)

    return render


def _current_app() -> flask.Flask:
    """The app behind ``flask.current_app`` (not its proxy)."""
    return flask.current_app._get_current_object()  # type: ignore[attr-defined]


def _current_request() -> flask.Request:
    """The request behind ``flask.request`` (not its proxy)."""
    return flask.request._get_current_object()  # type: ignore[attr-defined]
