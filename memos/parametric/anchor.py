"""Anchor text: general prose on which an adapter is kept close to the base model.

Distilling a handful of facts teaches a small model to talk about them everywhere; during
training the adapter is therefore also penalised by the KL divergence between the base
model's and the adapted model's next-token distributions on these texts (learning without
forgetting). They are ordinary sentences on unrelated topics, deliberately not about people.
"""

from __future__ import annotations

ANCHOR_TEXTS = (
    "The bridge was completed in 1932 after four years of work, and it still carries more "
    "than a hundred thousand vehicles every day.",
    "To keep basil healthy, water it in the morning, give it plenty of sun and pinch off "
    "the flowers before they open.",
    "Glaciers form where more snow falls in winter than melts in summer, slowly pressing "
    "the old layers into ice.",
    "The recipe asks for two eggs, a cup of milk and a pinch of salt, whisked together "
    "before the flour is added.",
    "In the final minutes of the match, the home team scored twice and won the cup for the "
    "first time in twenty years.",
    "A good password is long, unique to each account and stored in a password manager "
    "rather than on a note by the screen.",
    "The city council voted to extend the tram line to the harbour, where a new park will "
    "open next summer.",
    "Volcanic soil is rich in minerals, which is why vineyards and orchards often grow on "
    "the slopes of old volcanoes.",
    "The printer is out of paper again, so please order three more boxes before the end of "
    "the week.",
    "Light travels from the Sun to the Earth in about eight minutes, crossing roughly one "
    "hundred and fifty million kilometres.",
    "When the market opened, prices for grain and coffee rose sharply because of the dry "
    "season in several growing regions.",
    "The library lends books, films and board games, and its reading room stays open until "
    "nine in the evening.",
    "Sorting a list is easier to reason about when the function returns a new list instead "
    "of changing the one it was given.",
    "The trail climbs steeply through pine forest before it opens onto a ridge with views "
    "of the lakes below.",
    "Most of the museum's collection is kept in storage, and only a small part is shown to "
    "visitors at any time.",
    "Heavy rain is expected overnight, with strong winds along the coast and snow on the "
    "higher mountain passes.",
)
