# Golden numbers for multi-way cluster-robust standard errors of estimate_att.
#
# Run from the repository root: Rscript tests/golden/multiway/make_golden.R
# Needs R's sandwich (Debian r-cran-sandwich 3.0.2; any 3.x gives the same numbers).
# The data are simulated here (set.seed), written next to the results.
#
# riskset: matched sets of one treated person-period and 1 to 3 control person-periods,
#   persons reused across sets (as in risk-set matching over target trials), no person twice
#   in a set. lm(y ~ treat (+ x1 + g), weights) with vcovCL clustered on person, on set, and
#   two-way on person + set (multi0 = FALSE: Cameron, Gelbach and Miller 2011).
# replace: 1:2 matching with replacement; the regression on MatchIt's get_matches() layout
#   (treated weight 1, each control 1/2), vcovCL on ~ id (every unit one cluster) and on
#   ~ subclass + id; and the risk ratio of a binary outcome by the delta method.
library(sandwich)
fmt <- function(x) trimws(formatC(x, digits = 17, format = "g"))
out <- "tests/golden/multiway"
set.seed(20251201)

# ---- riskset ----
n_person <- 90; n_set <- 70
person_effect <- rnorm(n_person, sd = 1)
rows <- list()
for (s in seq_len(n_set)) {
  k <- sample(1:3, 1)
  who <- sample(n_person, k + 1)
  rows[[s]] <- data.frame(set = s - 1, person = who - 1, treat = c(1, rep(0, k)),
                          weight = c(1, rep(1 / k, k)))
}
rs <- do.call(rbind, rows)
n <- nrow(rs)
rs$x1 <- round(rnorm(n) + 0.3 * rs$treat, 6)
rs$g <- sample(c("a", "b", "c"), n, replace = TRUE)
rs$y <- round(person_effect[rs$person + 1] + 0.8 * rs$x1 + 0.5 * (rs$g == "b") +
              0.3 * rs$treat + rnorm(n), 6)
controls <- rs$treat == 0
rs$weight[controls] <- rs$weight[controls] * sum(controls) / sum(rs$weight[controls])
write.csv(rs, file.path(out, "riskset.csv"), row.names = FALSE)

results <- NULL
add <- function(scenario, model, clustering, fit, V, term = "treat") {
  results <<- rbind(results, data.frame(
    scenario = scenario, model = model, clustering = clustering,
    estimate = fmt(coef(fit)[[term]]), std_error = fmt(sqrt(V[term, term]))))
}
fit_d <- lm(y ~ treat, data = rs, weights = weight)
fit_a <- lm(y ~ treat + x1 + g, data = rs, weights = weight)
for (model in c("difference", "adjusted")) {
  fit <- if (model == "difference") fit_d else fit_a
  add("riskset", model, "person", fit, vcovCL(fit, cluster = ~ person, type = "HC1"))
  add("riskset", model, "set", fit, vcovCL(fit, cluster = ~ set, type = "HC1"))
  add("riskset", model, "person+set", fit,
      vcovCL(fit, cluster = ~ person + set, multi0 = FALSE, type = "HC1"))
  add("riskset", model, "hc1", fit, vcovHC(fit, type = "HC1"))
}

# ---- replace ----
n_t <- 50; n_c <- 70
mm <- t(sapply(seq_len(n_t), function(i) sample(n_c, 2) + n_t - 1))  # 0-based control rows
units <- data.frame(row = 0:(n_t + n_c - 1), treat = c(rep(1, n_t), rep(0, n_c)))
units$x1 <- round(rnorm(n_t + n_c) + 0.4 * units$treat, 6)
units$y <- round(1 + units$x1 + 0.25 * units$treat + rnorm(n_t + n_c), 6)
units$yb <- as.numeric(units$y > 1.2)
write.csv(units, file.path(out, "replace_units.csv"), row.names = FALSE)
write.csv(data.frame(treated_row = 0:(n_t - 1), control_1 = mm[, 1], control_2 = mm[, 2]),
          file.path(out, "replace_match_matrix.csv"), row.names = FALSE)
stacked <- do.call(rbind, lapply(seq_len(n_t), function(i) data.frame(
  subclass = i - 1, id = c(i - 1, mm[i, ]), weight = c(1, 0.5, 0.5))))
stacked <- cbind(stacked, units[stacked$id + 1, c("treat", "x1", "y", "yb")])
for (model in c("difference", "adjusted")) {
  fit <- if (model == "difference") lm(y ~ treat, data = stacked, weights = weight) else
    lm(y ~ treat + x1, data = stacked, weights = weight)
  add("replace", model, "id", fit, vcovCL(fit, cluster = ~ id, type = "HC1"))
  add("replace", model, "subclass+id", fit,
      vcovCL(fit, cluster = ~ subclass + id, multi0 = FALSE, type = "HC1"))
}
stacked$control <- 1 - stacked$treat
fit_p <- lm(yb ~ 0 + treat + control, data = stacked, weights = weight)
p <- coef(fit_p)
for (clustering in c("id", "subclass+id")) {
  V <- if (clustering == "id") vcovCL(fit_p, cluster = ~ id, type = "HC1") else
    vcovCL(fit_p, cluster = ~ subclass + id, multi0 = FALSE, type = "HC1")
  g <- c(1 / p[["treat"]], -1 / p[["control"]])
  results <- rbind(results, data.frame(
    scenario = "replace", model = "log_risk_ratio", clustering = clustering,
    estimate = fmt(log(p[["treat"]] / p[["control"]])),
    std_error = fmt(sqrt(drop(t(g) %*% V %*% g)))))
}
write.csv(results, file.path(out, "results.csv"), row.names = FALSE)
cat("written to", out, "\n")
