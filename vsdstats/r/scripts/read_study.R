# Read a vsdstats analysis table typed: the CSV that `vsdstats export STUDY -o units.csv`
# writes, with its sidecar units.schema.json.  Base R, utils and jsonlite only (Debian's
# R has no arrow or duckdb package):
#
#   source("R/read_study.R")
#   units <- vsd_read_study("units.csv")
#   str(units)   # one row per coded unit, with its post's platform, author, created_at ...
#
# units.schema.json is an ordered object {column: type}; the types are character,
# integer, double, logical (TRUE/FALSE) and POSIXct (UTC, ISO 8601 with Z, e.g.
# 2024-05-01T13:45:00.000000Z).  An empty field is NA in every column (so an empty string
# reads as NA); any other text, "NA" included, is kept as written.  The file's header must
# be the schema's columns in the schema's order, and every value must be of its column's
# type: otherwise the reader stops with an error naming the file, the column and the row.

.vsd_study_types <- c("character", "integer", "double", "logical", "POSIXct")

.vsd_study_stop <- function(...) stop(paste0(...), call. = FALSE)

# Convert one character column to `type`, naming the file, column and row on failure.
.vsd_study_convert <- function(x, type, file, col) {
  na <- is.na(x)
  check <- function(ok) {
    if (!all(ok)) {
      i <- which(!ok)[1]
      .vsd_study_stop(
        file, ": column '", col, "' data row ", i, ": '", x[i], "' is not ", type
      )
    }
  }
  switch(type,
    character = x,
    integer = {
      check(na | grepl("^[+-]?[0-9]+$", x))
      v <- suppressWarnings(as.integer(x))
      check(na | !is.na(v)) # beyond R's 32-bit integers
      v
    },
    double = {
      v <- suppressWarnings(as.double(x))
      check(na | !is.na(v) | x == "NaN")
      v
    },
    logical = {
      check(na | x %in% c("TRUE", "FALSE"))
      as.logical(x)
    },
    POSIXct = {
      v <- as.POSIXct(x, format = "%Y-%m-%dT%H:%M:%OSZ", tz = "UTC")
      check(na | (!is.na(v) & grepl("Z$", x)))
      v
    }
  )
}

#' Read an analysis table CSV typed by its schema.
#'
#' @param csv path of the CSV file (vsdstats export STUDY -o units.csv).
#' @param schema path of its schema (default: NAME.schema.json beside NAME.csv).
#' @return a data frame with one column per schema entry, in the schema's types.
vsd_read_study <- function(csv, schema = NULL) {
  if (is.null(schema)) schema <- sub("\\.csv$", ".schema.json", csv, ignore.case = TRUE)
  if (!file.exists(csv)) .vsd_study_stop(csv, ": no such file")
  if (!file.exists(schema)) {
    .vsd_study_stop(
      schema, ": not found (vsdstats export writes it beside ", basename(csv), ")"
    )
  }
  types <- tryCatch(
    jsonlite::fromJSON(schema, simplifyVector = FALSE),
    error = function(e) .vsd_study_stop(schema, ": invalid JSON (", conditionMessage(e), ")")
  )
  if (!is.list(types) || is.null(names(types)) || !length(types)) {
    .vsd_study_stop(schema, ": expected an object {column: type}")
  }
  for (col in names(types)) {
    t <- types[[col]]
    if (!is.character(t) || length(t) != 1 || !t %in% .vsd_study_types) {
      .vsd_study_stop(
        schema, ": column '", col, "' has type '", paste(t, collapse = ","),
        "', not one of ", paste(.vsd_study_types, collapse = ", ")
      )
    }
  }
  d <- tryCatch(
    utils::read.csv(csv,
      colClasses = "character", na.strings = "", check.names = FALSE,
      stringsAsFactors = FALSE, encoding = "UTF-8", blank.lines.skip = FALSE
    ),
    error = function(e) .vsd_study_stop(csv, ": cannot read (", conditionMessage(e), ")")
  )
  if (!identical(names(d), names(types))) {
    .vsd_study_stop(
      csv, ": columns (", paste(names(d), collapse = ", "), ") differ from ",
      basename(schema), " (", paste(names(types), collapse = ", "), ")"
    )
  }
  for (col in names(types)) {
    d[[col]] <- .vsd_study_convert(d[[col]], types[[col]], csv, col)
  }
  d
}
