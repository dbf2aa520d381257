# The model registry lives in Python (one table, see models.py); these
# functions only show and extend it.

#' Vision models available by name
#'
#' The models that `model =` accepts by short name in [image_scores()],
#' [image_scores_dir()] and [video_scores()], what each needs to run, and
#' whether this machine has it. Nothing is downloaded to find out. Any Hugging
#' Face model id, or a local folder through `local_model_path`, works as well.
#'
#' @returns A `data.frame`, one row per model, with columns `name`,
#'   `model_id` (Hugging Face id or folder), `architecture`, `description`;
#'   `gpu` (`TRUE`: runs only on a CUDA GPU, in 4-bit); `memory_gb` (about how
#'   much memory the model takes once loaded, GPU memory where `gpu` is
#'   `TRUE`; `NA` if unknown); `packages` (Python packages it needs beyond
#'   the default set, comma-separated); `transformers` (the transformers
#'   versions it works with, `""` for any); `available` (whether it can run
#'   in this Python environment on this machine) and `reason` (what is
#'   missing, `""` if nothing).
#' @seealso [register_vision_model()]
#' @examples
#' \donttest{
#' if (python_available()) {
#'   models <- list_vision_models()
#'   models[, c("name", "gpu", "memory_gb", "available")]
#' }
#' }
#' @export
list_vision_models <- function() {
  as_scores_frame(py_call("list_vision_models"), model_columns)
}

# The columns of list_vision_models(), in Python's order.
model_columns <- c(
  "name", "model_id", "architecture", "description", "gpu", "memory_gb", "packages",
  "transformers", "available", "reason"
)

#' Add a vision model under a short name
#'
#' Registers a model for this R session so that `model = name` can be used in
#' [image_scores()] and friends. Registering an existing name replaces it.
#'
#' @param name Short name to use as `model =` later, e.g. `"my-clip"`.
#' @param model_id Hugging Face model id (`"organisation/model"`) or a local
#'   folder holding a saved model.
#' @param architecture `"clip"` for any CLIP-compatible model, `"jina"` for
#'   jina-clip, or `"eva"` for EVA-CLIP (the Python package checks the name).
#' @param description Free text shown by [list_vision_models()].
#' @returns The updated [list_vision_models()] table, invisibly.
#' @examples
#' \donttest{
#' if (python_available()) {
#'   register_vision_model("clip-b16", "openai/clip-vit-base-patch16",
#'                         description = "OpenAI CLIP ViT-B/16")
#'   list_vision_models()
#' }
#' }
#' @export
register_vision_model <- function(name, model_id, architecture = "clip", description = NULL) {
  check_string(name, "name")
  check_string(model_id, "model_id")
  check_string(architecture, "architecture")
  if (!is.null(description)) check_string(description, "description")
  # A local folder is given to Python as an absolute path, so that a later
  # change of working directory does not break the name.
  if (dir.exists(path.expand(model_id))) model_id <- normalizePath(model_id)
  result <- py_call(
    "register_vision_model",
    name = name, model_id = model_id, architecture = architecture, description = description
  )
  invisible(as_scores_frame(result, model_columns))
}

#' A tiny CLIP model for trying the package without a download
#'
#' Writes a CLIP model with random weights (a few hundred kB) to `path`, for
#' `local_model_path =`. Its scores are meaningless; it is for examples,
#' tests, and checking that the set-up works.
#'
#' @param path Folder to write; created if missing.
#' @returns `path`, to pass as `local_model_path`.
#' @examples
#' \donttest{
#' if (python_available()) {
#'   model_dir <- tiny_clip_model()
#'   list.files(model_dir)
#' }
#' }
#' @export
tiny_clip_model <- function(path = tempfile("tiny-clip-")) {
  path <- path.expand(check_string(path, "path"))
  bridge <- bridge_module()
  tryCatch(
    bridge$build_tiny_clip(path),
    error = function(e) stop(python_message(e), call. = FALSE)
  )
  path
}
