"""Pure rules of the convention: models, decisions, calendar and money rules, search-attribute keys. No I/O."""
