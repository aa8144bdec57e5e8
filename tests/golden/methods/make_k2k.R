# Golden files for CEM with k2k = TRUE (one-to-one matching within the strata), from MatchIt.
#
# Run from this folder:  Rscript make_k2k.R   (after make_golden.R, which writes the data sets)
# Needs MatchIt (Debian's r-cran-matchit 4.5.1 was used; set R_LIBS to a library with another
# release to compare) and jsonlite. Writes k2k/k2k_<case>.json: the settings, the subclass of each
# unit (NA when k2k left it unmatched), the weights and the match matrix (row numbers, 1-based,
# of the matched control of each treated unit; the focal group's for ATC).
#
# k2k.method = "robust_mahalanobis" fails in 4.5.1 (transform_covariates uses `var` before it
# is set); it is left out here.
suppressPackageStartupMessages({library(MatchIt); library(jsonlite)})
options(digits = 17)
version <- as.character(packageVersion("MatchIt"))

run_case <- function(case, data, formula, args) {
  m <- do.call(matchit, c(list(formula, data = data, method = "cem", k2k = TRUE), args))
  mm <- m$match.matrix
  rows <- matrix(match(mm, rownames(data)), nrow = nrow(mm))
  out <- list(case = case, matchit = version,
              estimand = if (is.null(args$estimand)) "ATT" else args$estimand,
              k2k_method = if ("k2k.method" %in% names(args) && is.null(args$k2k.method)) "none"
                           else if (is.null(args$k2k.method)) "mahalanobis" else args$k2k.method,
              args = args[setdiff(names(args), "k2k.method")],
              subclass = as.integer(m$subclass), weights = unname(m$weights),
              focal_rows = match(rownames(mm), rownames(data)), match_rows = as.vector(rows))
  writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE, na = "null"),
             file.path("k2k", paste0("k2k_", case, ".json")))
}

lal <- read.csv("lalonde.csv", stringsAsFactors = FALSE)
rownames(lal) <- lal$id
fl <- treat ~ age + educ + race + married + nodegree + re74 + re75
sim <- read.csv("sim.csv", stringsAsFactors = FALSE)
rownames(sim) <- sim$id
fs <- treat ~ x1 + x2 + x3 + g + age

run_case("lalonde_mahalanobis", lal, fl, list(cutpoints = list(age = 4, educ = "q3", re74 = 3, re75 = 3)))
run_case("lalonde_euclidean", lal, fl, list(cutpoints = list(age = 4, educ = "q3", re74 = 3, re75 = 3),
                                            k2k.method = "euclidean"))
run_case("lalonde_scaled", lal, fl, list(cutpoints = list(age = 4, educ = "q3", re74 = 3, re75 = 3),
                                         k2k.method = "scaled_euclidean"))
run_case("lalonde_none", lal, fl, list(cutpoints = list(age = 4, educ = "q3", re74 = 3, re75 = 3),
                                       k2k.method = NULL))
run_case("lalonde_atc", lal, fl, list(cutpoints = list(age = 4, educ = "q3", re74 = 3, re75 = 3),
                                      estimand = "ATC"))
run_case("sim_mahalanobis", sim, fs, list(cutpoints = list(x1 = 3, x2 = 3, age = 3)))
run_case("sim_ate", sim, treat ~ x1 + x3 + g, list(cutpoints = list(x1 = "q4"), estimand = "ATE",
                                                   k2k.method = "euclidean"))
