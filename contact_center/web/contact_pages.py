"""The public pages where a contact confirms or refuses the messages of a case.

A confirmation request (:mod:`contact_center.gru.contact_confirmation`) links to
``/contact/confirmer/{token}`` and ``/contact/refuser/{token}``. Opening a link only shows the
page; the answer is given by its button (a ``POST`` to the same address), so that a mail
scanner that follows links answers nothing. A wrong token gets 404, a used or expired one 410,
each as a short French page, named for the commune of the case (the registry's name: a
commune created at run time too). The pages have the town's look (``/shared/pages.css``), the
same strict headers as the console (no script, never framed, never cached, no referrer: the
token is in the address).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from contact_center.gru.contact_confirmation import TokenCheck
from contact_center.web.console_page import PAGE_HEADERS
from contact_center.web.deps import CommunesDep, ContactConfirmationsDep

#: HTML pages that a person opens from a message, not API operations (outside the OpenAPI).
router = APIRouter(prefix="/contact", tags=["contact"], include_in_schema=False)

#: Longer than any token drawn: not worth a digest.
_MAX_TOKEN = 128
_WHAT = {"email": "votre adresse électronique", "sms": "votre numéro de téléphone"}
_ASK = {
    "confirmer": (
        "Confirmer vos coordonnées",
        "En confirmant, vous recevrez les prochains messages de la commune sur cette demande.",
        "Je confirme",
    ),
    "refuser": (
        "Refuser les messages de cette demande",
        "En refusant, vos coordonnées sont effacées de la demande et la commune ne vous écrira "
        "plus à son sujet.",
        "Je refuse",
    ),
}
_ANSWERS = {
    "confirmed": (
        200,
        "Coordonnées confirmées",
        "Merci : vous recevrez les prochains messages de la commune sur cette demande.",
    ),
    "refused": (
        200,
        "Refus enregistré",
        "Vos coordonnées ont été effacées de la demande : vous ne recevrez plus aucun message "
        "à son sujet.",
    ),
    "unknown": (
        404,
        "Lien introuvable",
        "Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.",
    ),
    "used": (
        410,
        "Lien déjà utilisé",
        "Ce lien a déjà servi : votre réponse est enregistrée. Pour toute question, "
        "contactez l'accueil de la mairie.",
    ),
    "expired": (
        410,
        "Lien expiré",
        "Ce lien n'est plus valable. Sans confirmation, vous ne recevez aucun message au "
        "sujet de cette demande. Pour toute question, contactez l'accueil de la mairie.",
    ),
}


@router.get("/confirmer/{token}", response_class=HTMLResponse)
def confirm_page(
    token: str, confirmations: ContactConfirmationsDep, communes: CommunesDep
) -> HTMLResponse:
    """The confirmation page: what is asked, and the button that confirms."""
    return _ask("confirmer", token, confirmations.check(_bounded(token)), communes.names)


@router.post("/confirmer/{token}", response_class=HTMLResponse)
def confirm(
    token: str, confirmations: ContactConfirmationsDep, communes: CommunesDep
) -> HTMLResponse:
    """The contact confirms: the case's next notices are sent to it."""
    return _answer(confirmations.confirm(_bounded(token)), communes.names)


@router.get("/refuser/{token}", response_class=HTMLResponse)
def refuse_page(
    token: str, confirmations: ContactConfirmationsDep, communes: CommunesDep
) -> HTMLResponse:
    """The refusal page: what refusing does, and the button that refuses."""
    return _ask("refuser", token, confirmations.check(_bounded(token)), communes.names)


@router.post("/refuser/{token}", response_class=HTMLResponse)
def refuse(
    token: str, confirmations: ContactConfirmationsDep, communes: CommunesDep
) -> HTMLResponse:
    """The contact refuses: it is erased from the case and never written to again."""
    return _answer(confirmations.refuse(_bounded(token)), communes.names)


def _bounded(token: str) -> str:
    return token if len(token) <= _MAX_TOKEN else ""


def _ask(action: str, token: str, check: TokenCheck, tenants: Mapping[str, str]) -> HTMLResponse:
    if check.outcome != "valid":
        return _answer(check, tenants)
    title, effect, button = _ASK[action]
    tenant = _tenant(check, tenants)
    lead = (
        f"Une demande a été déposée auprès de {tenant} en indiquant "
        f"{_WHAT.get(check.channel or '', 'vos coordonnées')} pour en recevoir le suivi."
    )
    form = (
        f'<form method="post" action="/contact/{action}/{escape(token)}">'
        f'<div class="actions"><button type="submit">{button}</button></div></form>'
    )
    return _page(200, title, tenant, f"<p>{escape(lead)}</p><p>{escape(effect)}</p>{form}")


def _answer(check: TokenCheck, tenants: Mapping[str, str]) -> HTMLResponse:
    status, title, text = _ANSWERS[check.outcome]
    return _page(status, title, _tenant(check, tenants), f"<p>{escape(text)}</p>")


def _tenant(check: TokenCheck, tenants: Mapping[str, str]) -> str:
    return tenants.get(check.tenant_id or "", "la commune")


def _page(status: int, title: str, tenant: str, content: str) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} – {escape(tenant)}</title>
<link rel="stylesheet" href="/shared/pages.css">
</head>
<body>
<header class="top"><p class="brand">{escape(tenant)}</p></header>
<main id="contenu">
<div class="card narrow">
<h1>{escape(title)}</h1>
{content}
</div>
</main>
</body>
</html>
"""
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
