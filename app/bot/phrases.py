"""Requests for a person and questions about the bot, in English, Spanish, German and French.

A message asks for a person when it names one (``human``, ``agente``, ``Mitarbeiter``,
``conseiller``...) and either uses a verb of talking or reaching (``talk``, ``hablar``,
``sprechen``, ``parler``...) or is short (``agent``, ``real human please``). Matching is on
folded words (lowercase, no accents), so ``Habla con una persona`` and ``hablá`` both count.
"""

from __future__ import annotations

import re

from app.bot.text import fold, words

PERSON_NOUNS = frozenset(
    """
    human humans person people someone somebody agent agents operator representative rep
    staff employee assistant advisor adviser
    persona personas humano humana alguien agente asesor asesora operador operadora
    representante empleado
    mensch menschen person personen jemand jemandem jemanden mitarbeiter mitarbeiterin
    berater beraterin agenten kundenberater
    personne humain humaine quelqu quelquun conseiller conseillere operateur operatrice
    """.split()
)

CONTACT_VERBS = frozenset(
    """
    talk speak chat connect transfer contact reach call get put want need
    hablar habla hablo comunicar comunicarme pasar pasame pasa contactar atender atienda
    quiero necesito puedo
    sprechen reden verbinden verbinde chatten kontaktieren erreichen mochte will kann
    parler parle joindre passer passez passe mettre relation contacter voudrais veux peux
    """.split()
)

#: Nouns that only ever mean a person of the team: with these, "help" is enough.
STAFF_NOUNS = frozenset(
    "human humans agent agents operator representative staff humano agente asesor operador "
    "mensch menschen mitarbeiter berater humain conseiller operateur".split()
)
HELP_VERBS = frozenset("help helfen hilft ayudar ayuda ayudarme aider aide".split())

#: A message of at most this many words that names a person is a request for one.
SHORT_REQUEST_WORDS = 4

_BOT_QUESTION = re.compile(
    r"\b(are you|am i (talking|chatting|speaking) (to|with)|is this|eres|estoy hablando con|"
    r"bist du|sind sie|rede ich mit|spreche ich mit|es tu|tu es|etes vous|est ce que tu es|"
    r"je parle a)\b.*\b(a |an |un |una |ein |eine |une )?"
    r"(bot|robot|roboter|machine|maquina|maschine|ai|ki|ia|chatbot|real|human|humano|mensch|"
    r"humain|computer|ordenador|ordinateur)\b"
)


def asks_for_person(text: str) -> bool:
    """Whether the message asks to talk to a human."""
    tokens = words(text.replace("'", " ").replace("’", " "))
    if not tokens or not any(t in PERSON_NOUNS for t in tokens):
        return False
    if " in person" in f" {' '.join(tokens)}":
        return False  # "visit a shop in person" is about shops, not about a chat
    if len(tokens) <= SHORT_REQUEST_WORDS or any(t in CONTACT_VERBS for t in tokens):
        return True
    return any(t in STAFF_NOUNS for t in tokens) and any(t in HELP_VERBS for t in tokens)


def asks_about_bot(text: str) -> bool:
    """Whether the message asks if it is talking to a bot."""
    folded = re.sub(r"[^a-z0-9 ]+", " ", fold(text))
    return bool(_BOT_QUESTION.search(" ".join(folded.split())))
