"""Figures, one module per topic: :mod:`.style` (colours, saving), :mod:`.models` (model comparison),
:mod:`.featuremaps` (class maps), :mod:`.explanation` (attributions), :mod:`.attention` (AttentiveChrome's
attention), :mod:`.levels` (``target: level``).
Each function draws one figure and writes one PNG atomically."""

import matplotlib

matplotlib.use("Agg")  # no screen: never pick an interactive backend

from .attention import plot_attention  # noqa: E402
from .explanation import plot_cell_explanation, plot_gene_explanation, plot_importance_clustermap  # noqa: E402
from .featuremaps import plot_featuremap, plot_featuremaps_grid  # noqa: E402
from .levels import plot_levels, plot_r_by_model  # noqa: E402
from .models import (plot_auc_by_model, plot_cnn_vs_baselines, plot_model_comparison,  # noqa: E402
                     plot_published, plot_training_curves)
from .transfer import plot_pooled, plot_predicted_vs_measured, plot_transfer_heatmap  # noqa: E402
from .style import MARK_COLORS, MODEL_COLORS, MODEL_LABELS, mark_colors, model_color, model_label  # noqa: E402

__all__ = ["MARK_COLORS", "MODEL_COLORS", "MODEL_LABELS", "mark_colors", "model_color", "model_label",
           "plot_attention", "plot_auc_by_model", "plot_cell_explanation", "plot_cnn_vs_baselines", "plot_featuremap",
           "plot_featuremaps_grid", "plot_gene_explanation", "plot_importance_clustermap", "plot_levels",
           "plot_model_comparison", "plot_pooled", "plot_predicted_vs_measured", "plot_published", "plot_r_by_model",
           "plot_training_curves", "plot_transfer_heatmap"]
