# Tushu's workflow lives in the package (so an installed `tushu` finds it); this file lets
# `snakemake --configfile configs/demo.yaml --cores 2` work from the repository root too.
include: "pipeline/workflow/Snakefile"
