# Writes public datasets shipped in Debian's R packages as VW files for the
# benchmarks: each shuffled with a fixed seed and split 80/20 into
# NAME.train.vw and NAME.test.vw under the directory given as argument.
#   Rscript bench/real_data.R DIR
# Needs r-base-core, r-cran-aer, r-cran-mlbench and r-cran-ggplot2 (eight
# sets: five with unscaled numeric features).
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "/tmp/adaline_real_data"
dir.create(out, showWarnings = FALSE, recursive = TRUE)

# One VW line per row: "label |ns name=value ... |ns name:number ...".
# `categorical` columns become indicator features, `numeric` ones keep
# their values (unscaled, as the data has them).
write_vw <- function(name, label, namespaces, data) {
  set.seed(1)
  order <- sample(nrow(data))
  lines <- ifelse(label, "1", "-1")
  for (ns in names(namespaces)) {
    spec <- namespaces[[ns]]
    parts <- rep(paste0(" |", ns), nrow(data))
    for (column in spec$categorical) {
      value <- gsub("[ :|]", "_", as.character(data[[column]]))
      parts <- paste0(parts, " ", column, "=", value)
    }
    for (column in spec$numeric) {
      value <- data[[column]]
      parts <- paste0(parts, ifelse(value == 0, "",
                                    paste0(" ", column, ":", format(value, trim = TRUE))))
    }
    lines <- paste0(lines, parts)
  }
  lines <- lines[order]
  cut <- floor(length(lines) * 0.8)
  writeLines(lines[1:cut], file.path(out, paste0(name, ".train.vw")))
  writeLines(lines[(cut + 1):length(lines)], file.path(out, paste0(name, ".test.vw")))
  cat(sprintf("%-10s %7d train %7d test  positives %.3f\n", name, cut,
              length(lines) - cut, mean(label)))
}

# Angrist and Evans: did a mother of two have a third child?
data(Fertility, package = "AER")
write_vw("fertility", Fertility$morekids == "yes",
         list(kids = list(categorical = c("gender1", "gender2")),
              mother = list(categorical = c("age", "afam", "hispanic", "other"),
                            numeric = c("work"))),
         Fertility)

# NASA space shuttle sensors: is the radiator flow normal?
data(Shuttle, package = "mlbench")
write_vw("shuttle", Shuttle$Class == "Rad.Flow",
         list(sensor = list(numeric = paste0("V", 1:9))), Shuttle)

# Diamonds: is the price above the median?
data(diamonds, package = "ggplot2")
diamonds <- as.data.frame(diamonds)
write_vw("diamonds", diamonds$price > median(diamonds$price),
         list(grade = list(categorical = c("cut", "color", "clarity")),
              size = list(numeric = c("carat", "depth", "table", "x", "y", "z"))),
         diamonds)

# Letter images: is it one of the first half of the alphabet?
data(LetterRecognition, package = "mlbench")
letters_data <- LetterRecognition
write_vw("letters", as.character(letters_data$lettr) <= "M",
         list(shape = list(numeric = setdiff(names(letters_data), "lettr"))),
         letters_data)

# Splice junctions in DNA: is there no junction?
data(DNA, package = "mlbench")
write_vw("dna", DNA$Class == "n",
         list(base = list(categorical = setdiff(names(DNA), "Class"))), DNA)

# Pima Indians: diabetes from eight unscaled clinical measurements.
data(PimaIndiansDiabetes, package = "mlbench")
write_vw("pima", PimaIndiansDiabetes$diabetes == "pos",
         list(clinic = list(numeric = setdiff(names(PimaIndiansDiabetes),
                                              "diabetes"))),
         PimaIndiansDiabetes)

# Credit card applications: was the card granted? Incomes and spending in
# their own units.
data(CreditCard, package = "AER")
write_vw("creditcard", CreditCard$card == "yes",
         list(person = list(categorical = c("owner", "selfemp"),
                            numeric = c("age", "income", "dependents", "months")),
              credit = list(numeric = c("reports", "share", "expenditure",
                                        "majorcards", "active"))),
         CreditCard)

# Boston mortgages: was the application denied?
data(HMDA, package = "AER")
write_vw("hmda", HMDA$deny == "yes",
         list(loan = list(numeric = c("pirat", "hirat", "lvrat", "unemp")),
              history = list(categorical = c("chist", "mhist", "phist")),
              applicant = list(categorical = c("selfemp", "insurance", "condomin",
                                               "afam", "single", "hschool"))),
         HMDA)
