# Golden files for tiltak's subclassification and coarsened exact matching, from MatchIt.
#
# Run from this folder:  Rscript make_golden.R
# Needs MatchIt (Debian's r-cran-matchit 4.5.1 was used; set R_LIBS to a library with
# another release to compare, e.g. MatchIt 4.7.2 built from its public repository),
# jsonlite and sandwich. Writes, per case, <case>.json (settings, subclasses, weights, the
# propensity score used, MatchIt's summary() tables and sample sizes, and the robust HC1
# effect of the weighted regression) and the data sets it used (<data>.csv).
#
# The committed files come from 4.5.1, except the case marked `needs = "4.7.2"`, which
# comes from a second run with R_LIBS pointing at MatchIt 4.7.2 (commit of the 4.7.2
# release in github.com/kosukeimai/MatchIt; chk 0.10.0, rlang 1.1.7). When these files
# were made, 4.7.2 gave the same subclasses and weights as 4.5.1 on every other case.
#
# The propensity score is estimated once by glm() and passed to matchit() as a numeric
# `distance`, so that the subclass boundaries do not depend on the last digits of two
# different glm fits (the tests pass the same scores to tiltak).
suppressPackageStartupMessages({library(MatchIt); library(jsonlite); library(sandwich)})
options(digits = 17)

version <- as.character(packageVersion("MatchIt"))

simulate <- function(n, seed) {
  set.seed(seed)
  x1 <- rnorm(n); x2 <- rnorm(n); x3 <- rbinom(n, 1, 0.4)
  g <- sample(c("a", "b", "c"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
  age <- round(runif(n, 18, 60))
  lp <- -1 + 0.6 * x1 - 0.4 * x2 + 0.5 * x3 + 0.4 * (g == "b") + 0.02 * (age - 35)
  treat <- rbinom(n, 1, plogis(lp))
  y <- 1 + 2 * treat + x1 + 0.5 * x2 + 0.3 * x3 + rnorm(n)
  data.frame(id = sprintf("u%04d", seq_len(n)), treat, x1, x2, x3, g, age, y,
             stringsAsFactors = FALSE)
}

table_frame <- function(x) data.frame(term = rownames(x), x, check.names = FALSE, row.names = NULL)

run_case <- function(case, data, formula, outcome, args, needs = NULL) {
  # `needs`: the oldest MatchIt release whose results the case is for (a 4.5.1 bug, or an
  # option that is newer); the case is skipped, with a message, under an older release
  if (!is.null(needs) && packageVersion("MatchIt") < needs) {
    message(case, ": skipped (needs MatchIt >= ", needs, "; run with R_LIBS set to it)")
    return(invisible())
  }
  fit <- glm(formula, data = data, family = binomial)
  ps <- unname(fitted(fit))
  call_args <- c(list(formula, data = data), args)
  if (identical(args$method, "subclass")) call_args$distance <- ps
  m <- suppressWarnings(do.call(matchit, call_args))
  s <- summary(m, un = TRUE)
  sub <- as.integer(m$subclass)
  w <- unname(m$weights)
  md <- data; md$w <- w
  est <- lm(reformulate("treat", outcome), data = md[w > 0, ], weights = w)
  out <- list(
    case = case, matchit = version, method = args$method,
    estimand = if (is.null(args$estimand)) "ATT" else args$estimand,
    args = args[setdiff(names(args), "method")],
    ps = ps, subclass = sub, weights = w,
    sum_all = table_frame(s$sum.all),
    # subclassification's summary calls the weighted table "across subclasses"
    sum_matched = table_frame(if (is.null(s$sum.matched)) s$sum.across else s$sum.matched),
    nn = data.frame(row = rownames(s$nn), s$nn, check.names = FALSE, row.names = NULL),
    effect = unname(coef(est)["treat"]),
    se_hc1 = unname(sqrt(vcovHC(est, type = "HC1")["treat", "treat"])))
  writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, pretty = TRUE, na = "null"),
             paste0(case, ".json"))
}

data("lalonde", package = "MatchIt")
lal <- data.frame(id = rownames(lalonde), lalonde, stringsAsFactors = FALSE)
lal$race <- as.character(lal$race)
write.csv(lal, "lalonde.csv", row.names = FALSE)
fl <- treat ~ age + educ + race + married + nodegree + re74 + re75

sim <- simulate(800, 20240611)
write.csv(sim, "sim.csv", row.names = FALSE)
fs <- treat ~ x1 + x2 + x3 + g + age

small <- simulate(60, 7)
write.csv(small, "small.csv", row.names = FALSE)

# Subclassification
run_case("lalonde_sub6_att", lal, fl, "re78", list(method = "subclass"))
run_case("lalonde_sub4_ate", lal, fl, "re78", list(method = "subclass", subclass = 4, estimand = "ATE"))
run_case("lalonde_sub5_atc", lal, fl, "re78", list(method = "subclass", subclass = 5, estimand = "ATC"))
run_case("sim_sub6_att", sim, fs, "y", list(method = "subclass"))
run_case("sim_subq_ate", sim, fs, "y", list(method = "subclass", subclass = c(0.1, 0.3, 0.5, 0.7, 0.9), estimand = "ATE"))
run_case("sim_sub10_minn0", sim, fs, "y", list(method = "subclass", subclass = 10, min.n = 0))
run_case("sim_sub8_discard", sim, fs, "y", list(method = "subclass", subclass = 8, discard = "both"))
run_case("small_sub12_scoot", small, fs, "y", list(method = "subclass", subclass = 12))
run_case("small_sub10_scoot2", small, fs, "y", list(method = "subclass", subclass = 7, min.n = 2))

# Coarsened exact matching
run_case("lalonde_cem_att", lal, fl, "re78", list(method = "cem"))
run_case("lalonde_cem_ate", lal, fl, "re78", list(method = "cem", estimand = "ATE"))
run_case("lalonde_cem_cuts", lal, fl, "re78", list(method = "cem",
  cutpoints = list(age = 4, educ = "q3", re74 = c(0, 5000, 10000), re75 = 0)))
# cutpoints = 1 (leave a variable out) fails in 4.5.1 (its bins loop loses step), so
# this case is from 4.7.2 (R_LIBS=<library with MatchIt 4.7.2> Rscript make_golden.R)
run_case("lalonde_cem_rules", lal, treat ~ age + educ + re74 + re75, "re78",
         list(method = "cem", cutpoints = list(age = "scott", educ = "fd", re74 = "sturges", re75 = 1)),
         needs = "4.7.2")
run_case("lalonde_cem_group", lal, fl, "re78", list(method = "cem",
  grouping = list(race = list(c("black", "hispan"), "white")), estimand = "ATC"))
run_case("sim_cem_att", sim, fs, "y", list(method = "cem"))
run_case("sim_cem_ate", sim, treat ~ x1 + x3 + g, "y", list(method = "cem", estimand = "ATE",
  cutpoints = list(x1 = "q5")))
