# Python results (dicts of lists) to R data frames.

# One column: Python lists of floats arrive as numeric vectors, but a list
# holding None arrives as an R list with NULLs, so flatten it. NaN (no face
# found) becomes NA, which is how R marks missing values.
as_column <- function(x) {
  if (length(x) == 0) return(if (is.character(x)) character() else numeric())
  if (is.list(x)) {
    x <- unlist(lapply(x, function(v) if (is.null(v) || length(v) == 0) NA else v), use.names = FALSE)
  }
  if (is.double(x)) x[is.nan(x)] <- NA_real_
  x
}

# A data frame of every column Python returned, in its order, named exactly
# as given (no make.names(): a label such as "very happy" stays as it is).
# `required` are the columns that must be there.
as_scores_frame <- function(result, required = character()) {
  missing <- setdiff(required, names(result))
  if (length(missing) > 0) {
    stop(
      "transforemotion returned no column for ", paste0("\"", missing, "\"", collapse = ", "),
      ". The R and Python packages may be out of step: run setup_miniconda(force = TRUE).",
      call. = FALSE
    )
  }
  cols <- lapply(result, as_column)
  names(cols) <- names(result)
  list2DF(cols)
}
