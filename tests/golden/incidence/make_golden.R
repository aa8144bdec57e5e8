# Golden numbers for estimation.aalen_johansen (weighted Aalen-Johansen cumulative incidence
# with competing risks) from R's survival (multi-state survfit, with weights, id, cluster and
# influence = TRUE) and cmprsk (cuminc, unweighted).
#
# Run from the repository root: R_LIBS=<library with survival 3.8-3> Rscript \
#   tests/golden/incidence/make_golden.R
# Needs survival 3.8-3 (CRAN release of 2024-12-17, commit b8c2624 of
# github.com/therneau/survival, built into a private library named by R_LIBS) and cmprsk
# (Debian r-cran-cmprsk 2.2.11). Debian's survival 3.5.3 is not enough: its multi-state
# survfit (the older survfitCI) ignores 'cluster', returns the influence unweighted, and with
# weights that change over a unit's rows uses the unit's last weight for all of its
# contributions; 3.8-3's survfitAJ weights each row's contribution by that row's weight.
# Data are simulated here (set.seed) on a day scale with many tied times, a few events on
# day 0, three competing causes, administrative censoring and case weights (some zero).
#
# cr:  one row per unit. Variants: unweighted, weighted, weighted and clustered.
# cp:  counting-process rows (entry, exit] of up to 30 days per unit with a weight that
#      changes from row to row (as inverse-probability-of-censoring weights do), some units
#      entering late (delayed entry).
library(survival)
library(cmprsk)
stopifnot(packageVersion("survival") >= "3.8.3")
fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
out <- "tests/golden/incidence"
set.seed(20251201)
causes <- c("assisted_return", "forced_return", "permit")
horizons <- c(-1, 0, 30, 182, 365, 900)

n <- 300
event_day <- floor(rexp(n, 1 / 200))
event_day[1:4] <- 0
cause <- sample(causes, n, replace = TRUE, prob = c(0.5, 0.3, 0.2))
end_day <- sample(c(150, 280, 400, 540), n, replace = TRUE)
time <- pmin(event_day, end_day)
state <- ifelse(event_day <= end_day, cause, "censored")
weight <- round(runif(n, 0.2, 3), 4)
weight[c(7, 19)] <- 0
cluster <- sample(0:79, n, replace = TRUE)
cr <- data.frame(unit = 0:(n - 1), time = time, state = state, weight = weight,
                 cluster = cluster)
write.csv(cr, file.path(out, "cr.csv"), row.names = FALSE)

curve_rows <- NULL
influence_rows <- NULL
keep <- function(dataset, variant, fit, units) {
  k <- match("assisted_return", fit$states)
  curve_rows <<- rbind(curve_rows, data.frame(
    dataset = dataset, variant = variant, time = fit$time,
    n_risk = if (is.null(fit$counts)) fit$n.risk[, 1] else fit$counts[, "nrisk:1"],
    n_risk_weighted = fmt(fit$n.risk[, 1]), estimate = fmt(fit$pstate[, k]),
    survival = fmt(fit$pstate[, 1]), std_error = fmt(fit$std.err[, k])))
  if (!is.null(fit$influence.pstate)) {
    for (h in horizons) {
      column <- sum(fit$time <= h)  # the last time at or before the horizon
      value <- if (column == 0) rep(0, length(units)) else fit$influence.pstate[, column, k]
      influence_rows <<- rbind(influence_rows, data.frame(
        dataset = dataset, variant = variant, horizon = h, unit = units,
        influence = fmt(value)))
    }
  }
}
cr$fstate <- factor(cr$state, levels = c("censored", causes))
fit_u <- survfit(Surv(time, fstate) ~ 1, data = cr, id = unit, influence = TRUE)
keep("cr", "unweighted", fit_u, cr$unit)
fit_w <- survfit(Surv(time, fstate) ~ 1, data = cr, id = unit, weights = weight,
                 influence = TRUE)
keep("cr", "weighted", fit_w, cr$unit)
fit_c <- survfit(Surv(time, fstate) ~ 1, data = cr, id = unit, cluster = cluster,
                 weights = weight)
keep("cr", "weighted_clustered", fit_c, NULL)

ci <- cuminc(cr$time, as.character(cr$state), cencode = "censored")
tp <- timepoints(ci, sort(unique(cr$time)))$est
cuminc_rows <- data.frame(time = as.numeric(colnames(tp)),
                          estimate = fmt(tp["1 assisted_return", ]),
                          forced_return = fmt(tp["1 forced_return", ]))
write.csv(cuminc_rows, file.path(out, "cr_cuminc.csv"), row.names = FALSE)

# ---- counting process with time-varying weights and delayed entry ----
m <- 120
rows <- list()
for (i in seq_len(m)) {
  start <- if (i %% 5 == 0) sample(c(10, 45, 70), 1) else 0
  t_event <- start + 1 + floor(rexp(1, 1 / 150))
  t_end <- sample(c(120, 200, 300), 1)
  stop_at <- min(t_event, t_end)
  if (stop_at <= start) next
  cuts <- unique(c(seq(start, stop_at, by = 30), stop_at))
  cuts <- cuts[cuts >= start]
  w <- 1
  for (j in seq_len(length(cuts) - 1)) {
    last <- j == length(cuts) - 1
    st <- if (last && t_event <= t_end) sample(causes, 1, prob = c(0.5, 0.3, 0.2)) else "censored"
    rows[[length(rows) + 1]] <- data.frame(unit = i - 1, entry = cuts[j], exit = cuts[j + 1],
                                           state = st, weight = round(w, 6))
    w <- w * runif(1, 0.95, 1.25)
  }
}
cp <- do.call(rbind, rows)
write.csv(cp, file.path(out, "cp.csv"), row.names = FALSE)
cp$fstate <- factor(cp$state, levels = c("censored", causes))
fit_cp <- survfit(Surv(entry, exit, fstate) ~ 1, data = cp, id = unit, weights = weight,
                  influence = TRUE)
keep("cp", "weighted", fit_cp, unique(cp$unit))

write.csv(curve_rows, file.path(out, "curves.csv"), row.names = FALSE)
write.csv(influence_rows, file.path(out, "influence.csv"), row.names = FALSE)
cat("written to", out, "\n")
