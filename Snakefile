# DeepChrome rebuilt: histone marks around the TSS -> gene expression, one CNN per cell.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/fetch.smk"
include: "rules/annotation.smk"
include: "rules/features.smk"
include: "rules/labels.smk"
include: "rules/split.smk"
include: "rules/models.smk"
include: "rules/featuremaps.smk"
include: "rules/summary.smk"


rule all:
    default_target: True
    input:
        all_outputs(),
