# Golden files for nearest-neighbour matching beyond the propensity score: distances on the
# covariates (Mahalanobis, robust Mahalanobis, Euclidean, scaled Euclidean), mahvars within a
# score caliper, calipers on covariates, antiexact, reuse.max, variable ratio and the orders
# "closest" and "farthest".
#
# Run from this folder once per MatchIt release, each from its own library in R_LIBS:
#   Rscript make_distances.R                                   # Debian's MatchIt 4.5.1
#   R_LIBS=<library with MatchIt 4.7.2> Rscript make_distances.R  # commit ac853e7, chk 0.10.0, rlang 1.1.7
# Each run writes distances-<version>.json; the data sets (sim.csv, discrete.csv) are the same
# for both runs (set seeds).
#
# MatchIt 4.5.1's nearest-neighbour code for a score *vector* has the bug of MatchIt issue
# #163 (calipers ignored, the neighbour on one side preferred), so under 4.5.1 only the
# paths that are correct there are run: distances on the covariates and mahvars (its
# nn_matchC, a brute-force search taking the lowest row among equally near controls) and a
# distance *matrix* of absolute score differences standing for the score. MatchIt 4.5.1's
# robust Mahalanobis distance fails (it inverts `var`, which is NULL, instead of the rank
# covariance), so it is run under 4.7.2 only, as are the options 4.5.1 does not have
# (m.order "closest" and "farthest") and everything on the score vector (4.6+ searches
# along the sorted scores, tiltak's ties = "matchit").
#
# The propensity score is fitted here once per data set and passed to MatchIt as a vector
# (or as the matrix of absolute differences), so that the files test the matching alone.
suppressPackageStartupMessages({library(MatchIt); library(jsonlite)})
version <- as.character(packageVersion("MatchIt"))
new <- packageVersion("MatchIt") >= "4.6.0"
options(digits = 17)

mm0 <- function(m, n) {  # match matrix as 0-based rows, -1 empty, treated in data order
  mm <- m$match.matrix
  rows <- matrix(match(mm, as.character(seq_len(n))) - 1L, nrow = nrow(mm))
  rows[is.na(rows)] <- -1L
  rows[order(as.integer(rownames(mm))), , drop = FALSE]
}

lalonde <- read.csv("../matching/lalonde.csv", stringsAsFactors = FALSE)[, -1]
lalonde$race <- factor(lalonde$race)
rownames(lalonde) <- NULL

set.seed(20251202)
n <- 300
sim <- data.frame(x1 = rnorm(n), x2 = rnorm(n), x3 = rbinom(n, 1, 0.4),
                  f = sample(c("a", "b", "c"), n, replace = TRUE),
                  age = sample(20:60, n, replace = TRUE), g = sample(1:2, n, replace = TRUE))
sim$treat <- rbinom(n, 1, plogis(-1.2 + 0.6 * sim$x1 - 0.4 * sim$x2 + 0.5 * sim$x3 +
                                   0.3 * (sim$f == "b") + 0.02 * (sim$age - 40)))
write.csv(sim, "sim.csv", row.names = FALSE)

set.seed(7)
n <- 240
discrete <- data.frame(b1 = rbinom(n, 1, 0.5), b2 = rbinom(n, 1, 0.3), k = sample(c(0, 1, 3, 7), n, TRUE),
                       f = sample(c("p", "q", "r"), n, replace = TRUE),
                       g = sample(1:2, n, replace = TRUE))
discrete$treat <- rbinom(n, 1, plogis(-0.8 + 0.7 * discrete$b1 - 0.5 * discrete$b2 +
                                        0.2 * discrete$k))
write.csv(discrete, "discrete.csv", row.names = FALSE)

sets <- list(
  lalonde = list(data = lalonde, covs = c("age", "educ", "race", "married", "nodegree", "re74", "re75")),
  sim = list(data = sim, covs = c("x1", "x2", "x3", "f", "age")),
  discrete = list(data = discrete, covs = c("b1", "b2", "k", "f"))
)
for (s in names(sets)) {
  d <- sets[[s]]$data
  fit <- glm(reformulate(sets[[s]]$covs, "treat"), data = d, family = binomial)
  sets[[s]]$ps <- unname(fitted(fit))
}

# One case: `spec` describes the call for tiltak (and for this script): distance ("ps" for the
# fitted score as a vector, "ps_matrix" for the matrix of absolute score differences, or a
# covariate distance), covariates, and MatchIt's other arguments by tiltak's names.
run_case <- function(name, set, spec) {
  d <- sets[[set]]$data
  ps <- sets[[set]]$ps
  covs <- if (is.null(spec$covariates)) sets[[set]]$covs else spec$covariates
  args <- list(formula = reformulate(covs, "treat"), data = d, method = "nearest",
               ratio = if (is.null(spec$ratio)) 1 else spec$ratio,
               replace = isTRUE(spec$replace))
  if (spec$distance == "ps") args$distance <- ps
  else if (spec$distance == "ps_matrix") args$distance <- abs(outer(ps[d$treat == 1], ps[d$treat == 0], "-"))
  else args$distance <- spec$distance
  if (!is.null(spec$mahvars)) args$mahvars <- reformulate(spec$mahvars)
  if (!is.null(spec$exact)) args$exact <- reformulate(spec$exact)
  if (!is.null(spec$antiexact)) args$antiexact <- reformulate(spec$antiexact)
  if (!is.null(spec$order)) args$m.order <- spec$order
  if (!is.null(spec$reuse_max)) args$reuse.max <- spec$reuse_max
  if (!is.null(spec$max_controls)) args$max.controls <- spec$max_controls
  if (!is.null(spec$min_controls)) args$min.controls <- spec$min_controls
  if (!is.null(spec$caliper)) {
    cal <- unlist(spec$caliper)
    names(cal)[names(cal) == "distance"] <- ""
    args$caliper <- cal
    std <- unlist(spec$std_caliper)
    args$std.caliper <- if (is.null(std)) TRUE else unname(std[match(names(spec$caliper), names(std))])
  }
  m <- suppressWarnings(do.call(matchit, args))
  list(name = name, set = set, spec = spec, match_matrix = mm0(m, nrow(d)),
       weights = unname(m$weights))
}

common <- list(
  list("mahalanobis 1:1", "sim", list(distance = "mahalanobis")),
  list("mahalanobis 2:1", "sim", list(distance = "mahalanobis", ratio = 2)),
  list("mahalanobis 1:1 lalonde", "lalonde", list(distance = "mahalanobis")),
  list("mahalanobis 3:1 lalonde", "lalonde", list(distance = "mahalanobis", ratio = 3)),
  list("mahalanobis replace 2:1", "sim", list(distance = "mahalanobis", ratio = 2, replace = TRUE)),
  list("mahalanobis exact g", "sim", list(distance = "mahalanobis", exact = "g")),
  list("mahalanobis antiexact x3", "sim", list(distance = "mahalanobis", antiexact = "x3")),
  list("mahalanobis caliper on age", "sim",
       list(distance = "mahalanobis", caliper = list(age = 5), std_caliper = list(age = FALSE))),
  list("mahalanobis caliper on x1 in SD", "sim",
       list(distance = "mahalanobis", caliper = list(x1 = 0.25))),
  list("mahalanobis reuse.max 2", "sim", list(distance = "mahalanobis", replace = TRUE, reuse_max = 2)),
  list("mahalanobis discrete (ties)", "discrete", list(distance = "mahalanobis")),
  list("mahalanobis discrete 2:1 (ties)", "discrete", list(distance = "mahalanobis", ratio = 2)),
  list("euclidean", "sim", list(distance = "euclidean", covariates = c("x1", "x2", "age"))),
  list("scaled euclidean", "sim", list(distance = "scaled_euclidean")),
  list("scaled euclidean discrete (ties)", "discrete", list(distance = "scaled_euclidean")),
  list("mahvars in a score caliper", "lalonde",
       list(distance = "ps", mahvars = c("age", "educ", "re74", "re75"),
            caliper = list(distance = 0.2))),
  list("mahvars 2:1 in a score caliper", "sim",
       list(distance = "ps", mahvars = c("x1", "x2", "age"), ratio = 2, caliper = list(distance = 0.25))),
  list("mahvars order smallest", "sim",
       list(distance = "ps", mahvars = c("x1", "x2"), order = "smallest")),
  list("score matrix antiexact", "sim",
       list(distance = "ps_matrix", antiexact = "x3")),
  list("score matrix covariate caliper", "sim",
       list(distance = "ps_matrix", caliper = list(age = 4), std_caliper = list(age = FALSE))),
  list("score matrix caliper and covariate caliper 2:1", "lalonde",
       list(distance = "ps_matrix", ratio = 2, caliper = list(distance = 0.02, age = 3),
            std_caliper = list(distance = FALSE, age = FALSE))),
  list("score matrix reuse.max 2", "lalonde", list(distance = "ps_matrix", replace = TRUE, reuse_max = 2)),
  list("score matrix reuse.max 3 2:1", "sim", list(distance = "ps_matrix", replace = TRUE, reuse_max = 3, ratio = 2))
)

newer <- list(
  list("robust mahalanobis", "sim", list(distance = "robust_mahalanobis")),
  list("robust mahalanobis 2:1 lalonde", "lalonde", list(distance = "robust_mahalanobis", ratio = 2)),
  list("robust mahalanobis discrete (ties)", "discrete", list(distance = "robust_mahalanobis")),
  list("score antiexact", "sim", list(distance = "ps", antiexact = "x3")),
  list("score antiexact 2:1 exact g", "sim", list(distance = "ps", antiexact = "x3", exact = "g", ratio = 2)),
  list("score covariate caliper", "sim",
       list(distance = "ps", caliper = list(distance = 0.2, age = 4), std_caliper = list(distance = TRUE, age = FALSE))),
  list("score covariate caliper discrete (ties)", "discrete",
       list(distance = "ps", caliper = list(k = 1), std_caliper = list(k = FALSE), ratio = 2)),
  list("score antiexact replace 2:1", "sim", list(distance = "ps", antiexact = "f", replace = TRUE, ratio = 2)),
  list("score reuse.max 2", "lalonde", list(distance = "ps", replace = TRUE, reuse_max = 2)),
  list("score reuse.max 2 discrete (ties)", "discrete", list(distance = "ps", replace = TRUE, reuse_max = 2, ratio = 2)),
  list("score variable ratio 2 (1-4)", "lalonde", list(distance = "ps", ratio = 2, max_controls = 4)),
  list("score variable ratio 1.5 (1-3) discrete", "discrete", list(distance = "ps", ratio = 1.5, max_controls = 3)),
  list("score variable ratio 2.5 (2-4) caliper", "sim",
       list(distance = "ps", ratio = 2.5, min_controls = 2, max_controls = 4, caliper = list(distance = 0.3))),
  list("score closest", "lalonde", list(distance = "ps", order = "closest")),
  list("score farthest", "lalonde", list(distance = "ps", order = "farthest")),
  list("score closest 2:1 caliper", "sim", list(distance = "ps", order = "closest", ratio = 2, caliper = list(distance = 0.2))),
  list("score closest discrete (ties)", "discrete", list(distance = "ps", order = "closest", ratio = 2)),
  list("score farthest discrete (ties)", "discrete", list(distance = "ps", order = "farthest")),
  list("score closest reuse.max 2", "sim", list(distance = "ps", order = "closest", replace = TRUE, reuse_max = 2)),
  list("score closest antiexact", "sim", list(distance = "ps", order = "closest", antiexact = "x3")),
  list("mahalanobis closest", "sim", list(distance = "mahalanobis", order = "closest")),
  list("mahalanobis farthest 2:1", "sim", list(distance = "mahalanobis", order = "farthest", ratio = 2)),
  list("mahalanobis closest discrete (ties)", "discrete", list(distance = "mahalanobis", order = "closest")),
  list("mahvars closest in a score caliper", "lalonde",
       list(distance = "ps", mahvars = c("age", "educ", "re74"), order = "closest", caliper = list(distance = 0.25))),
  list("score matrix closest", "sim", list(distance = "ps_matrix", order = "closest")),
  list("euclidean with caliper on its first column", "sim",
       list(distance = "euclidean", covariates = c("x1", "x2", "age"), caliper = list(age = 3),
            std_caliper = list(age = FALSE))),
  list("euclidean one covariate (ties)", "discrete", list(distance = "euclidean", covariates = "k"))
)

cases <- if (new) c(common, newer) else common
results <- lapply(cases, function(x) run_case(x[[1]], x[[2]], x[[3]]))
ps <- lapply(sets, function(s) s$ps)
writeLines(toJSON(list(matchit_version = version, ps = ps, cases = results),
                  digits = I(17), auto_unbox = TRUE, null = "null", na = "null"),
           sprintf("distances-%s.json", version))
cat("wrote", sprintf("distances-%s.json", version), "with", length(results), "cases\n")
