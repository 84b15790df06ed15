"""Each channel words a handoff notice from the notice itself: the web chat's sentences, the
browser voice page's and the phone's are functions of the same value, not rewrites of each other."""

from __future__ import annotations

from dataclasses import replace

import pytest

from channels.twilio.call import phone_notice
from channels.voice.session import spoken_notice
from channels.webchat.sse import chat_notice
from contact_center.conversation.turns import EmergencyNumbers, HandoffNotice

QUEUED = HandoffNotice(
    reason="resident_request",
    service="etat_civil",
    service_name="État civil",
    agents_available=True,
    queue_position=1,
)
CLOSED = HandoffNotice(
    reason="complaint",
    service="voirie",
    service_name="Voirie",
    agents_available=False,
    opening_hours="du lundi au vendredi, de 8 h 30 à 17 h",
)
DISTRESS = HandoffNotice(
    reason="sensitive",
    service="action_sociale",
    service_name="Action sociale (CCAS)",
    agents_available=True,
    queue_position=3,
    emergency=EmergencyNumbers(),
)


def test_the_web_chat_tells_the_resident_to_stay_on_the_page() -> None:
    assert chat_notice(QUEUED) == (
        "Je transmets notre conversation à un agent (État civil). Il verra tout notre échange : "
        "vous n'aurez pas à répéter votre demande. Restez sur cette page, il vous répondra ici "
        "dès que possible."
    )
    assert chat_notice(CLOSED) == (
        "Les agents (Voirie) ne sont pas disponibles en ce moment. Horaires : du lundi au "
        "vendredi, de 8 h 30 à 17 h\nJe peux enregistrer votre demande pour qu'un agent vous "
        "recontacte. "
    )
    assert chat_notice(DISTRESS).startswith(
        "Si vous êtes en danger, appelez le 17 (police) ou le 112. Pour un hébergement "
        "d'urgence ce soir, le 115 (Samu social) répond jour et nuit, gratuitement. En cas de "
        "violences, le 3919 est gratuit et anonyme.\nJe transmets notre conversation"
    )


def test_a_caller_is_told_to_stay_on_the_line_while_the_call_is_transferred() -> None:
    said = phone_notice(QUEUED, transfer=True)
    assert "État civil" in said
    assert said.endswith("Restez en ligne, je vous transfère.")
    # Without call control nobody transfers the call: the caller is not asked to hold.
    assert "Restez en ligne" not in phone_notice(QUEUED, transfer=False)
    assert "État civil" in phone_notice(QUEUED, transfer=False)


def test_a_caller_in_distress_hears_the_emergency_numbers_first() -> None:
    said = phone_notice(DISTRESS, transfer=True)
    assert said.startswith("Si vous êtes en danger, raccrochez et appelez le 17")
    assert all(number in said for number in ("112", "115", "3919"))
    other = phone_notice(
        replace(DISTRESS, emergency=EmergencyNumbers(shelter="0800")), transfer=True
    )
    assert "le 0800, le Samu social" in other and "115" not in other


def test_out_of_hours_a_caller_is_offered_a_callback() -> None:
    said = phone_notice(CLOSED, transfer=True)
    assert "ne sont pas disponibles en ce moment" in said and "8 h 30" in said
    assert "vous rappelle" in said and "Restez en ligne" not in said


@pytest.mark.parametrize("notice", [QUEUED, CLOSED, DISTRESS], ids=["queued", "closed", "distress"])
def test_no_spoken_channel_sends_the_resident_to_a_page(notice: HandoffNotice) -> None:
    for said in (phone_notice(notice, transfer=True), phone_notice(notice, transfer=False)):
        assert "cette page" not in said
        assert said != chat_notice(notice)
    assert "cette page" not in spoken_notice(notice)


def test_the_voice_page_says_who_waits_before_the_resident() -> None:
    assert "attend" not in spoken_notice(QUEUED)
    assert spoken_notice(DISTRESS).endswith(" 2 personnes attendent avant vous.")
    assert "par écrit" in spoken_notice(DISTRESS)


def test_each_wording_depends_on_the_notice_only() -> None:
    """The same notice gives the same words; another service gives other words, on every
    channel: none of them reads another channel's text."""
    moved = replace(QUEUED, service_name="Urbanisme")
    for wording in (chat_notice, spoken_notice, lambda n: phone_notice(n, transfer=True)):
        assert wording(QUEUED) == wording(replace(QUEUED))
        assert "Urbanisme" in wording(moved) and "État civil" not in wording(moved)
