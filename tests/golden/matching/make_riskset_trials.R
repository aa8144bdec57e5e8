# Golden file for tiltak's risk-set matching as a sequence of independent target trials.
#
# Run from this folder:  Rscript make_riskset_trials.R   (reads riskset.csv, writes
# riskset_trials.json). Needs MatchIt (any release from 4.5.1: the distance-matrix path is
# used, which is correct in Debian's 4.5.1 too; MatchIt issue #163 concerns score vectors).
# The person-periods at risk are those of make_riskset.R. The propensity score is a glm on
# all person-periods; matching is exact on the period (one trial per period), nearest on the
# score, largest first across all periods. Without replacement a person is used at most once
# per trial and may be a control in several trials (no unit.id): trials are matched
# independently of each other.
suppressPackageStartupMessages({library(MatchIt); library(jsonlite)})
d <- read.csv("riskset.csv", stringsAsFactors = FALSE)
fit <- glm(enrolled ~ age + x + sex, data = d, family = binomial)
d$ps <- unname(fitted(fit))
d$treat <- d$enrolled
run <- function(caliper_sd, ratio) {
  t_rows <- which(d$treat == 1)
  t_rows <- t_rows[order(d$ps[t_rows], decreasing = TRUE)]
  rows <- c(t_rows, which(d$treat == 0))
  d2 <- d[rows, ]
  D <- abs(outer(d$ps[t_rows], d$ps[d$treat == 0], "-"))
  m <- suppressWarnings(matchit(treat ~ age + x + sex, data = d2, distance = D, m.order = "data",
               exact = ~period, ratio = ratio, caliper = caliper_sd * sd(d$ps), std.caliper = FALSE))
  mm <- m$match.matrix
  mm_rows <- matrix(rows[match(mm, rownames(d2))], nrow = nrow(mm))
  t_orig <- rows[match(rownames(mm), rownames(d2))]
  o <- order(t_orig)
  mm_rows[is.na(mm_rows)] <- 0L
  w <- numeric(nrow(d)); w[rows] <- m$weights
  list(caliper = caliper_sd, ratio = ratio, treated_rows = t_orig[o], match_matrix = mm_rows[o, , drop = FALSE], weights = w)
}
out <- list(matchit = as.character(packageVersion("MatchIt")), ps = d$ps,
            results = list(run(0.2, 1), run(0.5, 3)))
writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE), "riskset_trials.json")
