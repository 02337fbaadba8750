# DeepChrome rebuilt: histone marks around the TSS -> gene expression, one CNN per cell.
from snakemake.logging import logger
from snakemake.utils import min_version

min_version("9.0")


# The demo config is the default; a --configfile replaces it rather than being merged over it.
if not workflow.config_settings.configfiles:

    configfile: f"{workflow.current_basedir}/config/config.yaml"


include: "rules/common.smk"


# Downloads and the small summary steps run where Snakemake runs (cluster nodes often lack internet).
localrules:
    fetch,
    auc_table,
    summary_figures,
    published_figure,
    overview,
    attention_agreement,
    genes_kept,


include: "rules/fetch.smk"


if PROCESSED:

    include: "rules/processed.smk"

else:

    include: "rules/demo.smk"
    include: "rules/annotation.smk"
    include: "rules/features.smk"
    include: "rules/labels.smk"
    include: "rules/split.smk"


include: "rules/models.smk"
include: "rules/attentive.smk"
# The models across cells (transfer matrix, pooled CNNs, predict cells) run for either target.
include: "rules/transfer.smk"
include: "rules/predict.smk"


# Feature maps and attributions explain the class network's P(ON): target: level leaves them out.
if LEVEL:

    include: "rules/levels.smk"

    logger.info(
        "target: level: feature maps, attributions and `snakemake explain` are not run (they explain the class "
        "model's P(ON)); run with target: class for them"
    )

else:

    include: "rules/featuremaps.smk"
    include: "rules/explain.smk"


include: "rules/summary.smk"
include: "rules/export.smk"


report: overview_page()


rule all:
    """Everything: every cell's models and feature maps and, for a run on all cells, the summary."""
    default_target: True
    input:
        all_outputs,
