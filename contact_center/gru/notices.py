"""The French texts sent to residents about their case (e-mail and SMS).

* On filing, an **accusé d'enregistrement** (registration receipt) with the tracking code: the
  only message that ever contains it, since only its digest is stored.
* When an agent takes the case in (``acknowledged``), the **accusé de réception** required by
  the code des relations entre le public et l'administration (art. L. 112-3, mentions of
  art. R. 112-5: date of receipt, the service in charge and how to reach it), with the date by
  which the service aims to answer.
* Before any of these, each contact given for the case gets one **confirmation request**
  (:func:`confirmation_notice`): who asks (the commune) and why, never what the request says,
  with a link to confirm and one to refuse (:mod:`contact_center.gru.contact_confirmation`).
* When the service needs the resident (``waiting_for_resident``), has answered (``resolved``) or
  does not follow the request up (``rejected``), a short notice quoting the agent's reason.

Texts are plain values (:class:`Notice`) that the cases store writes into the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

_AUTOMATIC = "Ce message vous est envoyé automatiquement ; merci de ne pas y répondre."


@dataclass(frozen=True)
class NoticeContext:
    """What a notice may say about a case and the service in charge."""

    tenant_name: str
    number: str
    summary: str
    filed_on: date
    due_date: date
    service_name: str
    service_address: str
    service_phone: str
    service_email: str
    service_hours: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Notice:
    """One message to send: ``kind`` says which notice it is, ``channel`` email or sms."""

    kind: str
    channel: str
    recipient: str
    subject: str | None
    body: str


def french_date(day: date, *, weekday: bool = False) -> str:
    """« 1er juin 2026 », or « lundi 1er juin 2026 » with ``weekday``."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {_MONTHS[day.month - 1]} {day.year}"
    return f"{_WEEKDAYS[day.weekday()]} {text}" if weekday else text


def registration_notices(ctx: NoticeContext, tracking_code: str) -> list[Notice]:
    """The accusé d'enregistrement sent when a case is filed."""
    due = french_date(ctx.due_date, weekday=True)
    body = "\n\n".join(
        [
            "Madame, Monsieur,",
            f"Votre demande « {ctx.summary} » a bien été enregistrée le "
            f"{french_date(ctx.filed_on)} sous le numéro {ctx.number}. Elle a été transmise "
            f"au service compétent : {ctx.service_name}.",
            f"Votre code de suivi : {tracking_code}\n"
            "Conservez-le : il vous permet de connaître à tout moment l'état d'avancement de "
            "votre demande auprès de l'assistant en ligne ou de l'accueil de la mairie. Ne le "
            "communiquez qu'à une personne de confiance.",
            f"Date prévisionnelle de réponse : {due}.",
            "Conformément au code des relations entre le public et l'administration, le "
            "présent accusé d'enregistrement atteste du dépôt de votre demande. Un accusé de "
            "réception vous sera adressé par le service chargé de votre demande dès sa prise "
            "en charge.",
            _AUTOMATIC,
            ctx.tenant_name,
        ]
    )
    sms = (
        f"{ctx.tenant_name} : demande n° {ctx.number} enregistrée ({ctx.service_name}). "
        f"Code de suivi : {tracking_code}. Réponse prévue au plus tard le "
        f"{ctx.due_date:%d/%m/%Y}."
    )
    subject = f"Votre demande n° {ctx.number} a bien été enregistrée"
    return _both(ctx, "registration", subject, body, sms)


def acknowledgement_notices(ctx: NoticeContext) -> list[Notice]:
    """The accusé de réception sent when an agent takes the case in."""
    body = "\n\n".join(
        [
            "Madame, Monsieur,",
            f"Nous accusons réception de votre demande n° {ctx.number} (« {ctx.summary} »), "
            f"reçue le {french_date(ctx.filed_on)}.",
            f"Elle est prise en charge par le service compétent : {ctx.service_name}. Sa date "
            f"prévisionnelle de réponse est fixée au {french_date(ctx.due_date, weekday=True)}.",
            _service_block(ctx),
            "Conformément au code des relations entre le public et l'administration "
            "(articles L. 112-3 et R. 112-5), le présent accusé de réception vous indique la "
            "date de réception de votre demande ainsi que la désignation et les coordonnées "
            "du service qui en est chargé. Merci de rappeler le numéro de votre demande dans "
            "tout échange.",
            _AUTOMATIC,
            ctx.tenant_name,
        ]
    )
    sms = (
        f"{ctx.tenant_name} : votre demande n° {ctx.number} est prise en charge "
        f"({ctx.service_name}). Réponse prévue au plus tard le "
        f"{ctx.due_date:%d/%m/%Y}. Contact : {ctx.service_phone}."
    )
    subject = f"Accusé de réception de votre demande n° {ctx.number}"
    return _both(ctx, "acknowledgement", subject, body, sms)


def waiting_notices(ctx: NoticeContext, reason: str | None) -> list[Notice]:
    """The service needs information or a document from the resident."""
    detail = f"Précisions demandées : {reason}" if reason else None
    return _status_notices(
        ctx,
        kind="waiting_for_resident",
        subject=f"Votre demande n° {ctx.number} : des informations complémentaires sont "
        "nécessaires",
        lead=f"Pour traiter votre demande n° {ctx.number} (« {ctx.summary} »), nous avons "
        "besoin d'informations complémentaires de votre part.",
        detail=detail,
        sms=f"{ctx.tenant_name} : des informations complémentaires sont nécessaires pour "
        f"votre demande n° {ctx.number}. Merci de contacter le service au {ctx.service_phone}.",
    )


def resolved_notices(ctx: NoticeContext, reason: str | None) -> list[Notice]:
    """The service has dealt with the request."""
    return _status_notices(
        ctx,
        kind="resolved",
        subject=f"Votre demande n° {ctx.number} a été traitée",
        lead=f"Votre demande n° {ctx.number} (« {ctx.summary} ») a été traitée.",
        detail=f"Réponse du service : {reason}" if reason else None,
        sms=f"{ctx.tenant_name} : votre demande n° {ctx.number} a été traitée. Pour toute "
        f"question : {ctx.service_phone}.",
    )


def rejected_notices(ctx: NoticeContext, reason: str | None) -> list[Notice]:
    """The request is not followed up (not for the town hall, duplicate, unfounded...)."""
    return _status_notices(
        ctx,
        kind="rejected",
        subject=f"Votre demande n° {ctx.number} a été classée sans suite",
        lead=f"Après examen, votre demande n° {ctx.number} (« {ctx.summary} ») a été classée "
        "sans suite.",
        detail=f"Motif : {reason}" if reason else None,
        sms=f"{ctx.tenant_name} : votre demande n° {ctx.number} a été classée sans suite. "
        f"Pour en savoir plus : {ctx.service_phone}.",
    )


def _status_notices(
    ctx: NoticeContext, *, kind: str, subject: str, lead: str, detail: str | None, sms: str
) -> list[Notice]:
    paragraphs = ["Madame, Monsieur,", lead]
    if detail:
        paragraphs.append(detail)
    paragraphs += [
        "Vous pouvez joindre le service en rappelant le numéro de votre demande.",
        _service_block(ctx),
        _AUTOMATIC,
        ctx.tenant_name,
    ]
    return _both(ctx, kind, subject, "\n\n".join(paragraphs), sms)


def _service_block(ctx: NoticeContext) -> str:
    return (
        f"Service chargé de votre demande : {ctx.service_name}\n"
        f"Adresse : {ctx.service_address}\n"
        f"Téléphone : {ctx.service_phone}\n"
        f"Courriel : {ctx.service_email}\n"
        f"Horaires : {ctx.service_hours}"
    )


def _both(ctx: NoticeContext, kind: str, subject: str, body: str, sms: str) -> list[Notice]:
    notices = []
    if ctx.email:
        notices.append(Notice(kind, "email", ctx.email, subject, body))
    if ctx.phone:
        notices.append(Notice(kind, "sms", ctx.phone, None, sms))
    return notices


@dataclass(frozen=True)
class ConfirmationRequest:
    """What a confirmation request may say: nothing of the request itself."""

    tenant_name: str
    number: str
    via_assistant: bool
    confirm_url: str
    refuse_url: str
    valid_until: date


def confirmation_notice(request: ConfirmationRequest, channel: str, recipient: str) -> Notice:
    """The one message a contact gets before it confirms (e-mail or SMS)."""
    tenant = request.tenant_name
    via = "par l'intermédiaire de son assistant en ligne" if request.via_assistant else ""
    if channel == "sms":
        body = (
            f"{tenant} : une demande (n° {request.number}) a été déposée {via} en indiquant "
            f"votre numéro pour son suivi. Confirmer : {request.confirm_url} - Refuser : "
            f"{request.refuse_url} - Sans réponse, vous ne recevrez rien d'autre."
        )
        return Notice("contact_confirmation", "sms", recipient, None, " ".join(body.split()))
    lead = (
        f"Une demande a été déposée auprès de la commune {via} (demande n° {request.number}), "
        "en indiquant votre adresse électronique pour en recevoir le suivi."
    )
    body = "\n\n".join(
        [
            "Madame, Monsieur,",
            " ".join(lead.split()),
            "Si c'est bien vous, ou si vous acceptez d'en recevoir le suivi, confirmez-le : "
            f"{request.confirm_url}",
            "Sinon, refusez : votre adresse sera effacée de la demande et vous ne recevrez plus "
            f"aucun message à son sujet : {request.refuse_url}",
            "Sans réponse de votre part, vous ne recevrez aucun autre message. Ces liens sont "
            f"valables jusqu'au {french_date(request.valid_until)}.",
            _AUTOMATIC,
            tenant,
        ]
    )
    subject = f"{tenant} : confirmez-vous être le contact d'une demande ?"
    return Notice("contact_confirmation", "email", recipient, subject, body)


def receipt_message(
    number: str, service_name: str, tracking_code: str, due_date: date, channels: list[str]
) -> str:
    """What the resident reads right after filing (chat, voice, counter)."""
    text = (
        f"Votre demande a bien été enregistrée sous le numéro {number} et transmise au service "
        f"compétent : {service_name}. Votre code de suivi est {tracking_code} : conservez-le, "
        "il vous permet de suivre l'avancement de votre demande. Date prévisionnelle de réponse : "
        f"{french_date(due_date, weekday=True)}."
    )
    ways = {"email": "par courriel", "sms": "par SMS"}
    sent = [ways[channel] for channel in ("email", "sms") if channel in channels]
    if sent:
        text += (
            f" Un message de confirmation vous est envoyé {' et '.join(sent)} : le suivi de la "
            "demande n'y sera envoyé qu'une fois ces coordonnées confirmées."
        )
    return text
