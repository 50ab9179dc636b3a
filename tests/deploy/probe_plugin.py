"""A plugin the deployment tests load into ``psonlinechat serve`` (through a temporary
entry point): its fragments say what the bridge saw of the page's request, so a test can
tell that the Host, the cookies and the forwarded address survived the module or the proxy.
"""

from __future__ import annotations

from markupsafe import escape

from psonlinechat import hookimpl


def _attributes(context) -> str:
    request = context.request
    return (f'data-host="{escape(request.headers.get("Host", ""))}" '
            f'data-forwarded-for="{escape(request.headers.get("X-Forwarded-For", ""))}" '
            f'data-language="{escape(request.headers.get("Accept-Language", ""))}"')


@hookimpl
def display_header(context) -> str:
    return f'<meta name="psoc-probe-head" {_attributes(context)}>'


@hookimpl
def display_footer(context) -> str:
    visitor = context.visitor
    return (f'<div id="psoc-probe" data-customer="{visitor.id_customer or 0}" '
            f'{_attributes(context)}></div>')


@hookimpl
def display_back_office_footer(context) -> str:
    employee = context.employee
    return (f'<div id="psoc-probe-bo" data-employee="{employee.id_employee if employee else 0}" '
            f'{_attributes(context)}></div>')
