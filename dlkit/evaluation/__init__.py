"""Evaluating classifiers and the practical fixes of the book's chapters 7 and 11.

    from dlkit import evaluation as ev
    cm = ev.confusion_matrix(y_test, model.predict(x_test))      # (K, K), rows = true class
    print(ev.classification_report(y_test, model.predict(x_test)))

What is here, one small function each, one module per topic:

- ``classification``, scores beyond accuracy: ``confusion_matrix``, ``precision_recall_f1``,
  ``classification_report`` (per-class precision, recall, F1 and the macro averages);
- ``imbalance``, data imbalance (chapter 11): ``make_imbalanced`` (subsample some classes to
  build an imbalanced training set), ``class_weights`` (Keras/scikit-learn's "balanced"
  weights), ``ClassWeightedCrossentropy`` (a loss applying them, what Keras's
  ``fit(class_weight=...)`` does), ``oversample`` / ``undersample`` (random resampling);
- ``quantization``, compression (chapter 11): ``quantize`` / ``quantize_int8`` /
  ``dequantize`` (symmetric post-training quantisation of a weight array to 8 or fewer bits),
  ``quantize_model`` (a copy of a model whose kernels went through those integers),
  ``model_nbytes``;
- ``distillation`` (chapter 11): ``soften`` / ``distillation_targets`` (the teacher's soft
  targets of knowledge distillation, Hinton et al. 2015), ``distillation_loss`` (the paper's
  loss with temperature and T^2 scaling, and its gradient);
- ``adversarial`` (chapter 11): ``input_gradient`` (d loss / d input per sample) and ``fgsm``
  (the fast gradient sign method, Goodfellow et al. 2015).

Labels may be given as integer arrays (N,) or as scores/probabilities/one-hot rows (N, K), in
which case the arg-max of each row is the label.
"""
from .adversarial import fgsm, input_gradient
from .classification import (_labels, classification_report,  # noqa: F401 (_labels: dlkit.viz)
                             confusion_matrix, precision_recall_f1)
from .distillation import distillation_loss, distillation_targets, soften
from .imbalance import (ClassWeightedCrossentropy, class_weights, make_imbalanced, oversample,
                        undersample)
from .quantization import dequantize, model_nbytes, quantize, quantize_int8, quantize_model

__all__ = ["confusion_matrix", "precision_recall_f1", "classification_report", "class_weights",
           "ClassWeightedCrossentropy", "make_imbalanced", "oversample", "undersample",
           "quantize", "quantize_int8", "dequantize", "quantize_model", "model_nbytes", "soften",
           "distillation_targets", "distillation_loss", "input_gradient", "fgsm"]
