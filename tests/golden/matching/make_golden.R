# Golden files for tiltak's nearest-neighbour matching, produced with R's MatchIt.
#
# Run from this folder:  Rscript make_golden.R
# Needs MatchIt (Debian r-cran-matchit 4.5.1 was used), jsonlite, sandwich, lmtest.
#
# MatchIt 4.5.1 has a bug on propensity-score vectors (issue #163, fixed in 4.5.4:
# calipers ignored, the lower-score neighbour taken). Its distance-matrix path is correct,
# so every match here passes the matrix of absolute score differences (treated x control)
# as `distance`, the caliper in absolute units (std.caliper = FALSE; the SD rule is applied
# here: caliper * sd(distance of the units not discarded)), discard as a logical vector
# (MatchIt's rule computed by MatchIt:::discard) and m.order = "data" after putting the
# treated rows in the wanted order (controls keep data order, which sets the tie rule).
suppressPackageStartupMessages({library(MatchIt); library(jsonlite)})
options(digits = 17)

ps_model <- function(formula, data) {
  fit <- glm(formula, data = data, family = binomial("logit"))
  list(ps = unname(fitted(fit)), lp = unname(fit$linear.predictors))
}

# One match with the distance-matrix path; returns the 1-based original rows.
match_matrix_path <- function(formula, data, dist, s) {
  treat <- data$treat == 1
  discarded <- MatchIt:::discard(setNames(as.integer(treat), rownames(data)), dist, s$discard)
  caliper <- NULL
  if (!is.null(s$caliper)) {
    caliper <- if (isTRUE(s$std_caliper)) s$caliper * sd(dist[!discarded]) else s$caliper
  }
  t_rows <- which(treat)
  t_rows <- switch(s$order,
    largest = t_rows[order(dist[t_rows], decreasing = TRUE)],
    smallest = t_rows[order(dist[t_rows], decreasing = FALSE)],
    data = t_rows)
  rows <- c(t_rows, which(!treat))
  d2 <- data[rows, , drop = FALSE]
  D <- abs(outer(dist[t_rows], dist[!treat], "-"))
  exact <- if (length(s$exact)) reformulate(s$exact) else NULL
  args <- list(formula, data = d2, method = "nearest", distance = D,
               discard = discarded[rows], ratio = s$ratio, replace = s$replace,
               m.order = "data", exact = exact)
  if (!is.null(caliper)) { args$caliper <- caliper; args$std.caliper <- FALSE }
  m <- suppressWarnings(do.call(matchit, args))
  orig <- rows  # position in d2 -> original row
  mm <- m$match.matrix
  idx <- match(rownames(mm), rownames(d2))
  mm_rows <- matrix(orig[match(mm, rownames(d2))], nrow = nrow(mm))
  o <- order(orig[idx])
  w <- numeric(nrow(data)); w[orig] <- m$weights
  sub <- rep(NA_integer_, nrow(data))
  if (!is.null(m$subclass)) sub[orig] <- as.integer(m$subclass)
  list(match_matrix = mm_rows[o, , drop = FALSE], treated_rows = orig[idx][o],
       weights = w, subclass = sub, discarded = as.logical(discarded),
       caliper_width = if (is.null(caliper)) NULL else caliper, m = m, d2 = d2, rows = rows)
}

settings_grid <- function(with_exact) {
  s <- list(
    list(ratio = 1, replace = FALSE, order = "largest", discard = "none", distance = "glm"),
    list(ratio = 1, replace = FALSE, order = "smallest", discard = "none", distance = "glm"),
    list(ratio = 1, replace = FALSE, order = "data", discard = "none", distance = "logit"),
    list(ratio = 1, replace = FALSE, order = "largest", discard = "none", distance = "glm", caliper = 0.1, std_caliper = TRUE),
    list(ratio = 1, replace = FALSE, order = "largest", discard = "both", distance = "logit", caliper = 0.2, std_caliper = TRUE),
    list(ratio = 1, replace = FALSE, order = "smallest", discard = "control", distance = "glm", caliper = 0.02, std_caliper = FALSE),
    list(ratio = 2, replace = FALSE, order = "largest", discard = "none", distance = "glm"),
    list(ratio = 2, replace = FALSE, order = "data", discard = "treated", distance = "logit", caliper = 0.25, std_caliper = TRUE),
    list(ratio = 3, replace = FALSE, order = "largest", discard = "none", distance = "glm", caliper = 0.5, std_caliper = TRUE),
    list(ratio = 3, replace = FALSE, order = "smallest", discard = "none", distance = "logit"),
    list(ratio = 1, replace = TRUE, order = "largest", discard = "none", distance = "glm"),
    list(ratio = 2, replace = TRUE, order = "largest", discard = "both", distance = "glm", caliper = 0.1, std_caliper = TRUE),
    list(ratio = 3, replace = TRUE, order = "data", discard = "none", distance = "logit", caliper = 0.3, std_caliper = TRUE)
  )
  if (with_exact) {
    s <- c(s, list(
      list(ratio = 1, replace = FALSE, order = "largest", discard = "none", distance = "glm", exact = "g"),
      list(ratio = 2, replace = FALSE, order = "smallest", discard = "none", distance = "logit", exact = c("g", "f"), caliper = 0.3, std_caliper = TRUE),
      list(ratio = 2, replace = TRUE, order = "largest", discard = "none", distance = "glm", exact = "g")
    ))
  }
  s
}

run_dataset <- function(name, data, formula, with_exact) {
  write.csv(data, paste0(name, ".csv"), row.names = FALSE)
  p <- ps_model(formula, data)
  results <- lapply(settings_grid(with_exact), function(s) {
    dist <- if (s$distance == "glm") p$ps else p$lp
    r <- match_matrix_path(formula, data, dist, s)
    mm <- r$match_matrix; mm[is.na(mm)] <- 0L
    list(settings = s, caliper_width = r$caliper_width, treated_rows = r$treated_rows,
         match_matrix = mm, weights = r$weights, subclass = r$subclass,
         discarded = r$discarded)
  })
  out <- list(data = paste0(name, ".csv"), formula = deparse(formula),
              matchit_version = as.character(packageVersion("MatchIt")),
              ps = p$ps, linear_predictor = p$lp, results = results)
  writeLines(toJSON(out, digits = I(17), auto_unbox = TRUE, null = "null", na = "null"),
             paste0(name, ".json"))
}

# Simulated data: continuous, binary and factor covariates, a two-level exact variable.
simulate <- function(n, shift, seed) {
  set.seed(seed)
  x1 <- rnorm(n); x2 <- rnorm(n); x3 <- rbinom(n, 1, 0.4)
  f <- factor(sample(c("a", "b", "c"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2)))
  g <- sample(c("north", "south"), n, replace = TRUE)
  lp <- shift + 0.8 * x1 - 0.5 * x2 + 0.6 * x3 + 0.5 * (f == "b") - 0.7 * (f == "c") + 0.4 * (g == "south")
  treat <- rbinom(n, 1, plogis(lp))
  data.frame(treat = treat, x1 = round(x1, 6), x2 = round(x2, 6), x3 = x3,
             f = as.character(f), g = g, y = round(1 + x1 + 0.5 * treat + rnorm(n), 6))
}

fm <- treat ~ x1 + x2 + x3 + f + g
run_dataset("sim_a", simulate(400, -1.2, 101), fm, TRUE)
run_dataset("sim_b", simulate(250, -0.1, 202), fm, TRUE)   # about as many treated as controls
run_dataset("sim_c", simulate(1500, -2.0, 303), fm, TRUE)

data("lalonde", package = "MatchIt")
lal <- data.frame(id = rownames(lalonde), lalonde, stringsAsFactors = FALSE)
lal$race <- as.character(lal$race)
fl <- treat ~ age + educ + race + married + nodegree + re74 + re75
run_dataset("lalonde", lal, fl, FALSE)
