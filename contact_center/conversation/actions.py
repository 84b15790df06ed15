"""What the assistant does beyond answering: file a case, say where a case stands, point to the
competent administration.

:class:`CaseActions` looks at a resident's message, the routing decision and the
conversation's state, and either returns an :class:`ActionReply` (the engine then says it
instead of a grounded answer) or ``None`` (the engine answers from the knowledge base).
The dialogue's steps and words are in :mod:`contact_center.conversation.intake`.

Privacy: the citizen view of a case (status label, service, dates) is all the assistant ever
tells, and only to whoever gives that case's tracking code in that commune.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast, get_args

from contact_center.conversation.intake import (
    PLACE_SERVICES,
    IntakeState,
    asks_case_status,
    find_contact,
    find_place,
    find_tracking_code,
    is_cancel,
    is_no,
    is_question,
    is_report,
    is_urgent,
    is_yes,
    summarise,
)
from contact_center.conversation.turns import HandoffNotice
from contact_center.gru.case_domain import CaseContact, CaseDraft, CaseStatus, Priority
from contact_center.gru.notices import french_date
from contact_center.gru.service_catalogue import ServiceCatalogue
from foundation.errors import ContactCenterError
from foundation.spoken_numbers import read_phone_number
from routing.classifier import RouteDecision
from routing.service_definitions import (
    TRIAGE_SERVICE,
    OtherAdministration,
    find_other_administration,
)

if TYPE_CHECKING:
    from contact_center.gru.connector import GruConnector

log = logging.getLogger(__name__)

URGENT_TEXT = (
    "En cas de danger immédiat, appelez le 112 (ou le 18 pour les pompiers, le 17 pour la police). "
)
ASK_PLACE = (
    "Je peux transmettre votre signalement au service compétent de la mairie ({service}). "
    "Où se situe le problème exactement ? Indiquez l'adresse ou un repère (numéro, rue, "
    "bâtiment…)."
)
ASK_CONTACT = (
    "Souhaitez-vous être informé(e) de la suite donnée ? Si oui, indiquez une adresse "
    "électronique ou un numéro de téléphone portable : il ne servira qu'au suivi de cette "
    "demande. Sinon, répondez « non »."
)
OFFER = "Je peux transmettre votre demande au service compétent de la mairie ({service}). "
ASK_CONTACT_AGAIN = (
    "Je n'ai pas reconnu d'adresse électronique ni de numéro de téléphone. Indiquez-en un, "
    "ou répondez « non » pour continuer sans coordonnées."
)
#: The channels where the resident speaks: a number heard is read back before it is kept.
VOICE_CHANNELS = frozenset({"phone", "voice"})
PHONE_HEARD_WRONG = (
    "J'ai entendu {count} chiffres, or un numéro de téléphone en compte dix, en commençant "
    "par zéro. Pouvez-vous le redire, deux chiffres par deux chiffres ? Sinon, répondez "
    "« non » pour continuer sans coordonnées."
)
CONFIRM_PHONE = "J'ai noté le numéro suivant : {phone}. Est-ce exact ? Répondez « oui » ou « non »."
CONFIRM_PHONE_AGAIN = "Le numéro {phone} est-il exact ? Répondez « oui » ou « non »."
ASK_PHONE_AGAIN = (
    "Excusez-moi. Pouvez-vous redire votre numéro, lentement, deux chiffres par deux "
    "chiffres ? Sinon, répondez « non » pour continuer sans coordonnées."
)
PHONE_DROPPED = "Je n'ai pas réussi à noter votre numéro : je ne l'enregistre pas. "
RECAP = (
    "Voici votre demande avant envoi :\n"
    "• Service : {service}\n"
    "• Objet : {summary}\n"
    "{place_line}"
    "• Suivi : {contact}\n"
    "Confirmez-vous l'envoi ? Répondez « oui » pour confirmer ou « non » pour annuler."
)
NO_CONTACT = "sans coordonnées (vous suivrez la demande avec son code de suivi)"
ASK_CONFIRM_AGAIN = "Répondez « oui » pour envoyer votre demande, ou « non » pour l'annuler."
FILED = (
    "Votre demande est enregistrée sous le numéro {number}.\n"
    "Votre code de suivi : {code}. Conservez-le : il vous permet de savoir où en est votre "
    "demande, ici ou auprès de la mairie.\n"
    "Service en charge : {service}. Une réponse est prévue au plus tard le {due}."
)
FILED_NOTIFIED = (
    " Un message vous est envoyé ({channel}) pour confirmer ces coordonnées : l'accusé "
    "d'enregistrement et le suivi de la demande n'y seront envoyés qu'après confirmation."
)
FILING_FAILED = (
    "Désolé, je n'ai pas pu enregistrer votre demande à cause d'un incident technique. "
    "Rien n'est perdu : répondez « oui » pour réessayer, ou contactez le service au {phone}."
)
CANCELLED = "C'est noté : je n'ai rien transmis. Puis-je vous aider autrement ?"
ASK_CODE = (
    "Pour vous répondre, j'ai besoin du code de suivi qui vous a été donné à l'enregistrement "
    "de votre demande (10 caractères, de la forme ABCD-EFGH-JK). Quel est-il ?"
)
STATUS = (
    "Votre demande (code {code}) est suivie par : {service}.\n"
    "État : {label}, depuis le {since}.{due_line}"
)
STATUS_DUE = "\nUne réponse est prévue au plus tard le {due}."
UNKNOWN_CODE = (
    "Je ne trouve aucune demande correspondant à ce code de suivi dans cette commune. "
    "Vérifiez-le (10 caractères, de la forme ABCD-EFGH-JK) ou contactez l'accueil de la mairie."
)
NO_CODE = (
    "Je n'ai pas reconnu de code de suivi dans votre message. Vous le trouverez dans l'accusé "
    "d'enregistrement de votre demande ; sans lui, l'accueil de la mairie peut vous renseigner."
)
OTHER_ADMINISTRATION = (
    "Cette démarche ne relève pas de la mairie. L'organisme compétent est : {name}.\n"
    "Il s'occupe notamment de : {handles}\n"
    "Contact : {phone} ; site : {website}"
)


@dataclass(frozen=True)
class ActionReply:
    """What the assistant says and does instead of a grounded answer.

    Attributes:
        text: The French reply.
        action: ``case_intake``, ``case_filed``, ``case_filing_failed``, ``case_cancelled``,
            ``case_status``, ``case_status_unknown`` or ``other_administration``.
        state: The conversation's next state (``None`` clears it).
        case: For ``case_filed``: number, tracking code, service, status, due date.
        retrieve: True when the reply should be followed by the knowledge base's sources.
        routing: The routing that holds for this turn when it is not the message's own (the
            answers « oui », « non » of a case intake keep the intake's service).
        handoff: For ``handoff``: its id, reason code and service.
        notice: For ``handoff`` and ``callback_offered``: what happened, which the channel
            words before ``text`` (then the question that follows the notice, if any).
    """

    text: str
    action: str
    state: dict[str, Any] | None = None
    case: dict[str, Any] = field(default_factory=dict)
    retrieve: bool = False
    routing: dict[str, Any] | None = None
    handoff: dict[str, Any] = field(default_factory=dict)
    notice: HandoffNotice | None = None


class CaseActions:
    """The assistant's actions on cases, for one deployment."""

    def __init__(self, gru: GruConnector, catalogue: ServiceCatalogue) -> None:
        self._gru = gru
        self._catalogue = catalogue

    def handle(
        self,
        *,
        tenant_id: str,
        conversation_id: str | None,
        channel: str,
        text: str,
        decision: RouteDecision | None,
        state: dict[str, Any] | None,
    ) -> ActionReply | None:
        """The reply to ``text`` when an action applies, else ``None`` (answer normally)."""
        intake = IntakeState.from_json(state)
        if intake is not None:
            if intake.step == "tracking_code":
                return self._status(tenant_id, find_tracking_code(text, whole_message=True))
            if _moved_on(intake, text):
                return None  # a new question: the engine drops the intake and answers it
            reply = self._continue(tenant_id, conversation_id, channel, intake, text)
            return replace(reply, routing=intake.routing)
        code = find_tracking_code(text)
        if code is not None:
            return self._status(tenant_id, code)
        if asks_case_status(text):
            return ActionReply(ASK_CODE, "case_status", IntakeState("tracking_code").to_json())
        if decision is None or conversation_id is None:
            return None
        if decision.service == "hors_commune" and not decision.needs_triage:
            return other_administration_reply(text)
        if not is_report(text, decision.service):
            return None
        if decision.needs_triage:  # a report, but for which service? Reception will tell.
            decision = replace(decision, service=TRIAGE_SERVICE)
        return self._start(tenant_id, text, decision)

    # -- intake --------------------------------------------------------------------------

    def _start(self, tenant_id: str, text: str, decision: RouteDecision) -> ActionReply:
        intake = IntakeState(
            step="contact",
            service=decision.service,
            description=text,
            location=find_place(text),
            priority="urgent" if is_urgent(text) else "normal",
            routing={
                "service": decision.service,
                "confidence": round(decision.confidence, 4),
                "reason": "case_intake",
                "needs_triage": decision.needs_triage,
            },
        )
        prefix = URGENT_TEXT if intake.priority == "urgent" else ""
        name = self._service_name(tenant_id, intake.service)
        if intake.service in PLACE_SERVICES and not intake.location:
            intake.step = "location"
            return ActionReply(
                prefix + ASK_PLACE.format(service=name), "case_intake", intake.to_json()
            )
        return ActionReply(
            prefix + OFFER.format(service=name) + ASK_CONTACT, "case_intake", intake.to_json()
        )

    def _continue(
        self,
        tenant_id: str,
        conversation_id: str | None,
        channel: str,
        intake: IntakeState,
        text: str,
    ) -> ActionReply:
        if is_cancel(text) or (intake.step == "confirm" and is_no(text)):
            return ActionReply(CANCELLED, "case_cancelled", None)
        if intake.step == "location":
            intake.location = find_place(text) or " ".join(text.split())[:200]
            intake.step = "contact"
            return ActionReply(ASK_CONTACT, "case_intake", intake.to_json())
        if intake.step == "contact":
            return self._take_contact(tenant_id, channel, intake, text)
        if intake.step == "phone_confirm":
            return self._confirm_phone(tenant_id, intake, text)
        if is_yes(text):
            return self._file(tenant_id, conversation_id, channel, intake)
        return ActionReply(ASK_CONFIRM_AGAIN, "case_intake", intake.to_json())

    def _take_contact(
        self, tenant_id: str, channel: str, intake: IntakeState, text: str
    ) -> ActionReply:
        email, phone = find_contact(text)
        if not (email or phone or is_no(text)) and intake.retries == 0:
            intake.retries = 1
            heard = read_phone_number(text).heard_digits
            again = PHONE_HEARD_WRONG.format(count=heard) if heard else ASK_CONTACT_AGAIN
            return ActionReply(again, "case_intake", intake.to_json())
        intake.email, intake.phone = email, phone
        if phone and channel in VOICE_CHANNELS:
            intake.step = "phone_confirm"  # a misheard digit would lose the follow-up
            return ActionReply(CONFIRM_PHONE.format(phone=phone), "case_intake", intake.to_json())
        intake.step = "confirm"
        return ActionReply(self._recap(tenant_id, intake), "case_intake", intake.to_json())

    def _confirm_phone(self, tenant_id: str, intake: IntakeState, text: str) -> ActionReply:
        """The caller's « oui » or « non » to the number read back (or the number corrected)."""
        _, corrected = find_contact(text)
        if corrected is not None and corrected != intake.phone:
            intake.phone, intake.phone_checks = corrected, 1
            return ActionReply(
                CONFIRM_PHONE.format(phone=corrected), "case_intake", intake.to_json()
            )
        if is_yes(text):
            intake.step = "confirm"
            return ActionReply(self._recap(tenant_id, intake), "case_intake", intake.to_json())
        if not is_no(text):
            reply = CONFIRM_PHONE_AGAIN.format(phone=intake.phone)
            return ActionReply(reply, "case_intake", intake.to_json())
        intake.phone = None
        if intake.phone_checks == 0:
            intake.phone_checks, intake.step = 1, "contact"
            return ActionReply(ASK_PHONE_AGAIN, "case_intake", intake.to_json())
        intake.step = "confirm"
        recap = PHONE_DROPPED + self._recap(tenant_id, intake)
        return ActionReply(recap, "case_intake", intake.to_json())

    def _recap(self, tenant_id: str, intake: IntakeState) -> str:
        contact = " et ".join(x for x in (intake.email, intake.phone) if x) or NO_CONTACT
        place = f"• Lieu : {intake.location}\n" if intake.location else ""
        return RECAP.format(
            service=self._service_name(tenant_id, intake.service),
            summary=summarise(intake.description),
            place_line=place,
            contact=contact,
        )

    def _file(
        self, tenant_id: str, conversation_id: str | None, channel: str, intake: IntakeState
    ) -> ActionReply:
        consent = bool(intake.email or intake.phone)
        draft = CaseDraft(
            tenant_id=tenant_id,
            service=intake.service,
            channel=channel,
            summary=_case_summary(intake),
            description=intake.description,
            location=intake.location,
            conversation_id=conversation_id,
            contact=CaseContact(email=intake.email, phone=intake.phone, consent=True)
            if consent
            else None,
            priority=_priority(intake.priority),
            actor="assistant",
        )
        try:
            receipt = self._gru.file_case(draft)
        except (ContactCenterError, OSError):
            log.exception("case filing failed conversation_id=%s", conversation_id)
            phone = self._service_phone(tenant_id, intake.service)
            return ActionReply(
                FILING_FAILED.format(phone=phone), "case_filing_failed", intake.to_json()
            )
        text = FILED.format(
            number=receipt.number,
            code=receipt.tracking_code,
            service=receipt.service_name or self._service_name(tenant_id, receipt.service),
            due=french_date(receipt.due_date),
        )
        if consent:
            channels = " et ".join(
                label
                for label, given in (("par e-mail", intake.email), ("par SMS", intake.phone))
                if given
            )
            text += FILED_NOTIFIED.format(channel=channels)
        case = {
            "id": receipt.case_id,
            "number": receipt.number,
            "tracking_code": receipt.tracking_code,
            "service": receipt.service,
            "status": str(receipt.status),
            "due_date": receipt.due_date.isoformat(),
        }
        return ActionReply(text, "case_filed", None, case=case)

    # -- status ---------------------------------------------------------------------------

    def _status(self, tenant_id: str, code: str | None) -> ActionReply:
        if code is None:
            return ActionReply(NO_CODE, "case_status_unknown", None)
        view = self._gru.citizen_status(tenant_id, code)
        if view is None:
            return ActionReply(UNKNOWN_CODE, "case_status_unknown", None)
        finished = {CaseStatus.RESOLVED, CaseStatus.CLOSED, CaseStatus.REJECTED}
        still_open = view.status_label not in {status.citizen_label for status in finished}
        due_line = STATUS_DUE.format(due=french_date(view.due_date)) if still_open else ""
        text = STATUS.format(
            code=code,
            service=view.service_name,
            label=view.status_label,
            since=french_date(view.updated_on),
            due_line=due_line,
        )
        return ActionReply(text, "case_status", None)

    # -- catalogue -----------------------------------------------------------------------

    def _service_name(self, tenant_id: str, code: str) -> str:
        entry = self._catalogue.get(tenant_id, code)
        return entry.name if entry is not None else code

    def _service_phone(self, tenant_id: str, code: str) -> str:
        entry = self._catalogue.get(tenant_id, code)
        return entry.phone if entry is not None else "l'accueil de la mairie"


def other_administration_reply(text: str) -> ActionReply | None:
    """The « another administration is competent » reply, when the words name which one."""
    body: OtherAdministration | None = find_other_administration(text)
    if body is None:
        return None
    reply = OTHER_ADMINISTRATION.format(
        name=body.name,
        handles=body.handles[:1].lower() + body.handles[1:],
        phone=body.phone,
        website=body.website,
    )
    return ActionReply(reply, "other_administration", None, retrieve=True)


def _priority(value: str) -> Priority:
    """The intake's priority as the cases domain knows it (``normal`` if unknown)."""
    return cast(Priority, value) if value in get_args(Priority) else "normal"


def _moved_on(intake: IntakeState, text: str) -> bool:
    """True when, instead of answering the intake's question, the resident asks another one."""
    if intake.step not in {"location", "contact"} or not is_question(text):
        return False
    return not any(find_contact(text)) and find_place(text) is None


def _case_summary(intake: IntakeState) -> str:
    """The case title: the resident's first sentence, marked when a callback was asked."""
    if intake.routing.get("callback"):
        return "Rappel demandé : " + summarise(intake.description, limit=100)
    return summarise(intake.description)
