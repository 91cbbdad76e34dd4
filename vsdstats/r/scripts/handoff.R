# The hand-off contract between the Python paper job and the R figures, and its reader.
#
# A hand-off folder holds UTF-8 CSV files (header, NA for missing, TRUE/FALSE for
# logicals, dates as YYYY-MM-DD) and schema.json, which maps each file name to an ordered
# object {column: R type} (written by the Python paper job, whose hand-off SCHEMA is the
# Python side of .vsd_contract below).  vsd_read_handoff() reads every file with
# read.csv(colClasses = <schema>) and validates it against the columns, types and enum
# values this file expects; any mismatch stops with an error naming the file and the
# column.
#
# Small-cell suppression is decided by the Python side (the tables' rule, --min-cell K)
# and arrives as columns: groups.csv `suppressed` (a group under K units: drawn in no
# figure) and `n_shown` (table 1's text of its count); `suppressed` in a file's rows (not
# drawn); `n_hidden` (the row's count is hidden: drawn grey without a number, or left
# out).  run.csv says whether the corpus is synthetic (every figure then says so), K, the
# analysis file, which residual the heatmaps draw ("adjusted", or "pearson" as the
# original study did) with its fixed colour limit (NA = from the data), and the
# incomplete last month left out of the time series (NA = none).
#
# Sourced by figures.R; stands alone too (base R, utils and jsonlite only):
#   source("R/handoff.R"); h <- vsd_read_handoff("paper/handoff"); str(h$means)

.vsd_contract <- list(
  "labels.csv" = c(
    dimension = "character", code = "character", label = "character", order = "integer"
  ),
  "residuals.csv" = c(
    test = "character", row_var = "character", col_var = "character", row = "character",
    col = "character", observed = "integer", expected = "double",
    pearson_residual = "double", adjusted_residual = "double", p_value_adj = "double", significant = "logical",
    z = "double", deff = "double", p_value_adj_naive = "double",
    residual_method = "character", n_hidden = "logical"
  ),
  "pmi.csv" = c(
    value = "character", perspective = "character", n = "integer", pmi = "double",
    npmi = "double", n_hidden = "logical"
  ),
  "delta_pmi.csv" = c(
    condition = "character", value = "character", perspective = "character",
    n_in = "integer", n_out = "integer", delta_pmi = "double", supported = "logical",
    null_mean = "double", delta_pmi_centered = "double", p_value = "double",
    p_value_adj = "double", n_hidden = "logical"
  ),
  "means.csv" = c(
    by = "character", group = "character", n = "integer", mean = "double",
    ci_low = "double", ci_high = "double", method = "character", flag = "character",
    ci_low_naive = "double", ci_high_naive = "double", n_shown = "character",
    suppressed = "logical"
  ),
  "monthly.csv" = c(
    month = "Date", n = "integer", mean = "double", ci_low = "double", ci_high = "double",
    method = "character", flag = "character", ci_low_naive = "double",
    ci_high_naive = "double", suppressed = "logical", n_hidden = "logical"
  ),
  "monthly_conditions.csv" = c(
    condition = "character", rank = "integer", month = "Date", n = "integer",
    mean = "double", ci_low = "double", ci_high = "double", method = "character",
    flag = "character", ci_low_naive = "double", ci_high_naive = "double",
    suppressed = "logical"
  ),
  "releases.csv" = c(date = "Date", label = "character"),
  "fingerprint.csv" = c(
    llm_product = "character", condition = "character", n = "integer", share = "double",
    adjusted_residual = "double", n_hidden = "logical"
  ),
  "alluvial.csv" = c(
    condition = "character", sentiment = "character", perspective = "character",
    value = "character", n = "integer", suppressed = "logical"
  ),
  "logodds.csv" = c(
    condition = "character", dimension = "character", feature = "character",
    n = "integer", log_odds_weighted = "double", rank = "integer", zeta = "double",
    p_value = "double", p_value_adj = "double", n_hidden = "logical"
  ),
  "glmm.csv" = c(
    outcome = "character", term = "character", estimate = "double", std_error = "double",
    odds_ratio = "double", or_ci_low = "double", or_ci_high = "double", p_value = "double",
    engine = "character", p_value_adj = "double",
    separation = "logical", reference = "character", suppressed = "logical"
  ),
  "groups.csv" = c(
    dimension = "character", code = "character", n = "integer", n_shown = "character",
    suppressed = "logical"
  ),
  "run.csv" = c(
    synthetic = "logical", min_cell = "integer", analysis = "character",
    residual = "character", residual_limit = "double", dropped_month = "character"
  )
)

# Allowed values of enumerated columns.
.vsd_enums <- list(
  "labels.csv" = list(
    dimension = c("sentiment", "condition", "perspective", "value", "llm_product", "platform")
  ),
  "run.csv" = list(residual = c("adjusted", "pearson")),
  "means.csv" = list(by = c("llm_product", "condition")),
  "logodds.csv" = list(dimension = c("perspective", "value")),
  "glmm.csv" = list(outcome = c("negative", "positive")),
  "groups.csv" = list(
    dimension = c("sentiment", "condition", "perspective", "value", "llm_product", "platform")
  )
)

.vsd_types <- c("character", "integer", "double", "logical", "Date")

.vsd_stop <- function(...) stop(paste0(...), call. = FALSE)

# Convert one character column to `type`, naming file and column on failure.
.vsd_convert <- function(x, type, file, col) {
  bad <- function(ok) {
    i <- which(!ok)[1]
    .vsd_stop(
      file, ": column '", col, "' must be ", type, " but row ", i, " holds '", x[i], "'"
    )
  }
  na <- is.na(x)
  switch(type,
    character = x,
    integer = {
      ok <- na | grepl("^[+-]?[0-9]+$", x)
      if (!all(ok)) bad(ok)
      as.integer(x)
    },
    double = {
      v <- suppressWarnings(as.double(x))
      ok <- na | !is.na(v) | x %in% c("NaN")
      if (!all(ok)) bad(ok)
      v
    },
    logical = {
      ok <- na | x %in% c("TRUE", "FALSE")
      if (!all(ok)) bad(ok)
      as.logical(x)
    },
    Date = {
      v <- as.Date(x, format = "%Y-%m-%d", optional = TRUE)
      ok <- na | (!is.na(v) & grepl("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", x))
      if (!all(ok)) bad(ok)
      v
    }
  )
}

# Read one hand-off file as the contract says; on failure re-read it as text to
# report which column and row broke the contract.
.vsd_read_file <- function(path, file, types) {
  header <- tryCatch(
    names(utils::read.csv(path, nrows = 0, check.names = FALSE, encoding = "UTF-8")),
    error = function(e) .vsd_stop(file, ": cannot read the header (", conditionMessage(e), ")")
  )
  missing <- setdiff(names(types), header)
  if (length(missing)) {
    .vsd_stop(
      file, ": column '", missing[1], "' is in schema.json but missing from the file ",
      "(header: ", paste(header, collapse = ", "), ")"
    )
  }
  extra <- setdiff(header, names(types))
  if (length(extra)) {
    .vsd_stop(file, ": column '", extra[1], "' is in the file but not in schema.json")
  }
  if (!identical(header, names(types))) {
    .vsd_stop(
      file, ": columns are not in schema.json order (file: ", paste(header, collapse = ", "),
      "; schema: ", paste(names(types), collapse = ", "), ")"
    )
  }
  # Dates are read as text and parsed strictly (read.csv's Date class would silently
  # turn a malformed date into NA after the first row).
  cc <- ifelse(types == "Date", "character", types)
  d <- tryCatch(
    utils::read.csv(path,
      colClasses = unname(cc), na.strings = "NA", stringsAsFactors = FALSE,
      check.names = FALSE, encoding = "UTF-8"
    ),
    error = function(e) NULL
  )
  if (is.null(d)) {
    raw <- utils::read.csv(path,
      colClasses = "character", na.strings = "NA", stringsAsFactors = FALSE,
      check.names = FALSE, encoding = "UTF-8"
    )
    for (col in names(types)) .vsd_convert(raw[[col]], types[[col]], file, col)
    .vsd_stop(file, ": read.csv failed with the schema.json column classes")
  }
  for (col in names(types)[types == "Date"]) {
    d[[col]] <- .vsd_convert(d[[col]], "Date", file, col)
  }
  d
}

#' Read and validate a hand-off folder.
#'
#' @param handoff_dir folder with schema.json and the CSV files of the contract.
#' @return a named list of data frames, one per file, named without ".csv".
vsd_read_handoff <- function(handoff_dir) {
  schema_path <- file.path(handoff_dir, "schema.json")
  if (!file.exists(schema_path)) .vsd_stop("schema.json: not found in ", handoff_dir)
  schema <- tryCatch(
    jsonlite::fromJSON(schema_path, simplifyVector = FALSE),
    error = function(e) .vsd_stop("schema.json: invalid JSON (", conditionMessage(e), ")")
  )
  out <- list()
  for (file in names(.vsd_contract)) {
    want <- .vsd_contract[[file]]
    if (is.null(schema[[file]])) .vsd_stop("schema.json: no entry for ", file)
    types <- vapply(schema[[file]], function(t) {
      if (!is.character(t) || length(t) != 1) NA_character_ else t
    }, character(1))
    for (col in names(types)) {
      if (is.na(types[[col]]) || !types[[col]] %in% .vsd_types) {
        .vsd_stop(
          "schema.json: ", file, " column '", col, "' has type '", types[[col]],
          "', not one of ", paste(.vsd_types, collapse = ", ")
        )
      }
    }
    for (col in names(want)) {
      if (!col %in% names(types)) {
        .vsd_stop(file, ": column '", col, "' (", want[[col]], ") missing from schema.json")
      }
      if (types[[col]] != want[[col]]) {
        .vsd_stop(
          file, ": column '", col, "' has type '", types[[col]], "' in schema.json, ",
          "expected '", want[[col]], "'"
        )
      }
    }
    path <- file.path(handoff_dir, file)
    if (!file.exists(path)) .vsd_stop(file, ": listed in the contract but not found in ", handoff_dir)
    d <- .vsd_read_file(path, file, types)
    for (col in names(.vsd_enums[[file]])) {
      ok <- .vsd_enums[[file]][[col]]
      badv <- setdiff(unique(d[[col]]), ok)
      if (length(badv)) {
        .vsd_stop(
          file, ": column '", col, "' holds '", badv[1], "', expected one of ",
          paste(ok, collapse = ", ")
        )
      }
    }
    out[[sub("\\.csv$", "", file)]] <- d
  }
  out
}
