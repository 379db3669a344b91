"""The FAQ knowledge base: designers edit YAML under data/faq/, Rasa trains from it."""
