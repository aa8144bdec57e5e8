# Golden files for tiltak's tie-breaking in nearest-neighbour matching: MatchIt's own
# score-vector path (its default call), on data with many tied scores.
#
# Run from this folder once per MatchIt release, each from its own library in R_LIBS:
#   R_LIBS=<library with MatchIt 4.5.4> Rscript make_ties.R   # commit dae1eb4, chk 0.9.2, rlang 1.1.7
#   R_LIBS=<library with MatchIt 4.7.2> Rscript make_ties.R   # commit ac853e7, chk 0.10.0, rlang 1.1.7
# Each run writes ties-<version>.json (and discrete.csv, the same for both). MatchIt 4.5.1
# (Debian) is refused: its score-vector path has the bug of MatchIt issue #163.
#
# Cases: (1) small hand-made score vectors on a grid of multiples of 1/16 (exact binary
# fractions, so that equal distances are exactly equal): equal scores, equidistant
# controls on either side, with replacement, ratio > 1, a caliper, exact strata;
# (2) random score vectors on that grid under many settings; (3) the default call
# matchit(treat ~ x1 + x2 + f + g, data) and variants on data with discrete covariates
# (tied glm scores); (4) lalonde, the default call (the vignette's match) and its
# regression-adjusted effect with a pair-clustered SE (sandwich::vcovCL, HC1).
suppressPackageStartupMessages({library(MatchIt); library(jsonlite); library(sandwich)})
version <- as.character(packageVersion("MatchIt"))
if (packageVersion("MatchIt") < "4.5.4") stop("MatchIt >= 4.5.4 needed; found ", version)
options(digits = 17)

mm0 <- function(m, treat) {  # match matrix as 0-based data rows, -1 empty, treated in data order
  mm <- m$match.matrix
  rows <- matrix(match(mm, rownames(m$X)) - 1L, nrow = nrow(mm))
  rows[is.na(rows)] <- -1L
  rows[order(match(rownames(mm), rownames(m$X))), , drop = FALSE]
}

vector_case <- function(name, treat, d, g = NULL, ratio = 1, replace = FALSE, caliper = NULL,
                        order = "largest", discard = "none") {
  df <- data.frame(treat = treat, x = seq_along(treat), g = if (is.null(g)) 1L else g)
  args <- list(treat ~ x, data = df, distance = d, ratio = ratio, replace = replace,
               m.order = order, discard = discard)
  if (!is.null(g)) args$exact <- ~g
  if (!is.null(caliper)) { args$caliper <- caliper; args$std.caliper <- FALSE }
  m <- suppressWarnings(do.call(matchit, args))
  list(name = name, treat = treat, distance = d, exact = if (is.null(g)) NULL else g,
       settings = list(ratio = ratio, replace = replace, caliper = caliper, order = order,
                       discard = discard),
       discarded = unname(m$discarded), match_matrix = mm0(m, treat), weights = unname(m$weights))
}

hand <- list(
  vector_case("equal scores, controls before", c(0, 0, 1), c(8, 8, 8) / 16),
  vector_case("equal scores, controls around", c(0, 1, 0, 0, 1, 0), c(8, 8, 8, 8, 8, 8) / 16),
  vector_case("equal scores, treated after", c(1, 1, 0, 0), c(8, 8, 8, 8) / 16),
  vector_case("equidistant, a treated unit between", c(1, 0, 0, 1), c(8, 4, 12, 6) / 16),
  vector_case("equidistant, ratio 2", c(1, 0, 0, 0, 0, 1), c(8, 4, 12, 2, 14, 6) / 16, ratio = 2),
  vector_case("equidistant, with replacement", c(1, 0, 0, 1), c(8, 4, 12, 6) / 16, replace = TRUE),
  vector_case("equidistant, ratio 2 with replacement", c(1, 0, 0, 0, 0, 1),
              c(8, 4, 12, 2, 14, 6) / 16, ratio = 2, replace = TRUE),
  vector_case("ratio 3 with replacement, many ties", c(1, 0, 0, 0, 0, 0, 0, 1, 0),
              c(8, 6, 10, 6, 10, 8, 8, 7, 9) / 16, ratio = 3, replace = TRUE),
  vector_case("equidistant at the caliper", c(1, 0, 0, 1, 0), c(8, 6, 10, 7, 11) / 16,
              caliper = 2 / 16),
  vector_case("equidistant within exact strata", c(1, 0, 0, 1, 0, 0, 1),
              c(8, 4, 12, 6, 4, 12, 8) / 16, g = c(1, 1, 1, 1, 2, 2, 2)),
  vector_case("other strata between", c(1, 0, 0, 0, 0), c(8, 7, 10, 9, 6) / 16,
              g = c(1, 2, 1, 2, 1))
)

set.seed(20240611)
grid <- expand.grid(ratio = 1:3, replace = c(FALSE, TRUE), caliper = c(NA, 2 / 16),
                    exact = c(FALSE, TRUE), order = c("largest", "smallest", "data"),
                    stringsAsFactors = FALSE)
random <- lapply(seq_len(nrow(grid)), function(i) {
  s <- grid[i, ]
  n <- 40
  treat <- as.integer(runif(n) < 0.4); treat[1:2] <- c(1L, 0L)
  d <- sample(0:16, n, replace = TRUE) / 16
  g <- if (s$exact) sample(1:2, n, replace = TRUE) else NULL
  vector_case(sprintf("random %d", i), treat, d, g, ratio = s$ratio, replace = s$replace,
              caliper = if (is.na(s$caliper)) NULL else s$caliper, order = s$order,
              discard = if (i %% 7 == 0) "both" else "none")
})

# Discrete covariates: every covariate pattern has one glm score, shared by many units.
set.seed(7)
n <- 900
x1 <- rbinom(n, 1, 0.4); x2 <- rbinom(n, 1, 0.5)
f <- sample(c("a", "b", "c", "d"), n, replace = TRUE)
g <- sample(c("north", "south"), n, replace = TRUE)
treat <- rbinom(n, 1, plogis(-1 + 0.8 * x1 - 0.5 * x2 + 0.4 * (f == "b") - 0.3 * (f == "d")))
disc <- data.frame(treat = treat, x1 = x1, x2 = x2, f = f, g = g)
write.csv(disc, "discrete.csv", row.names = FALSE)
glm_case <- function(name, ...) {
  m <- suppressWarnings(matchit(treat ~ x1 + x2 + f + g, data = disc, ...))
  settings <- lapply(list(...), function(v) if (inherits(v, "formula")) all.vars(v) else v)
  list(name = name, settings = settings, distance = unname(m$distance),
       discarded = unname(m$discarded), match_matrix = mm0(m, disc$treat),
       weights = unname(m$weights))
}
discrete <- list(
  glm_case("default"),
  glm_case("ratio 2", ratio = 2),
  glm_case("replace", replace = TRUE),
  glm_case("ratio 3 replace", ratio = 3, replace = TRUE),
  glm_case("caliper 0.1", caliper = 0.1),
  glm_case("exact g, ratio 2", exact = ~g, ratio = 2),
  glm_case("smallest", m.order = "smallest"),
  glm_case("discard both", discard = "both", ratio = 2)
)

data("lalonde", package = "MatchIt")
m <- matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = lalonde)
md <- match.data(m)
fit <- lm(re78 ~ treat + age + educ + race + married + nodegree + re74 + re75, data = md,
          weights = weights)
lal <- list(distance = unname(m$distance), match_matrix = mm0(m, lalonde$treat),
            weights = unname(m$weights), att_regression = unname(coef(fit)["treat"]),
            se_regression = sqrt(vcovCL(fit, cluster = ~subclass)["treat", "treat"]))

writeLines(toJSON(list(matchit_version = version, hand = hand, random = random,
                       discrete = discrete, lalonde = lal),
                  digits = I(17), auto_unbox = TRUE, null = "null", na = "null"),
           sprintf("ties-%s.json", version))
cat("wrote", sprintf("ties-%s.json", version), "\n")
