"""Human coding: gold tables (:mod:`.gold`), the per-post comparison with the machine
(:mod:`.compare`), blind sampling sheets and their design (:mod:`.sample`) and Label
Studio configs, tasks and exports (:mod:`.labelstudio`)."""

from vsdstats._lazy import lazy_exports

_MEMBERS = {
    "ValidateError": "gold",
    "read_coded": "gold",
    "read_imhi": "gold",
    "parse_yes_no": "gold",
    "Validation": "compare",
    "run_validate": "compare",
    "collapse": "compare",
    "write_report": "compare",
    "write_validation": "compare",
    "allocate": "sample",
    "stratified_sample": "sample",
    "sample_posts": "sample",
    "coding_sheet": "sample",
    "sheet_readme": "sample",
    "assign_coders": "sample",
    "blind_sheets": "sample",
    "draw_design": "sample",
    "write_sample": "sample",
    "SampleDesign": "sample",
    "label_config": "labelstudio",
    "read_export": "labelstudio",
    "ImhiData": "gold",
    "is_imhi": "gold",
    "read_gold_table": "gold",
}
__all__ = sorted(_MEMBERS)
__getattr__ = lazy_exports(__name__, _MEMBERS)
