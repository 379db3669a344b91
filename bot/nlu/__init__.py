"""The project's own Rasa 3.6 NLU graph components.

- ``bot.nlu.featurizer.SentenceEmbeddingFeaturizer``: dense sentence features from an offline
  pre-trained encoder (MiniLM on onnxruntime, or the pure-numpy multilingual USE).
- ``bot.nlu.classifier.LinearIntentClassifier``: a regularised linear model on all sentence
  features, which is also the FAQ response selector (retrieval intents).
"""
