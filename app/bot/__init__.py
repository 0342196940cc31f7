"""The FAQ bot's engine: text normalisation, the per-site index (semantic + lexical
retrieval), the handoff phrases and the decision. No Flask, no database: services feed it
entries and act on its decisions."""
