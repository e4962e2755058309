// Parsers for one line of Vowpal Wabbit or LIBSVM text. Stateless functions:
// safe to call from any number of threads at once.
//
// VW:     label [importance] [base] ['tag]|ns f1 f2:0.5 |ns2:2 f3 | f4 :0.3
// LIBSVM: label index:value index:value ... [# comment]
//
// The tag is the last word before the first '|' when it starts with ' or
// touches the bar; ":0.3" is an anonymous feature (AnonymousFeatureKey).
// Features are hashed as they are read (see core/feature_key.h); LIBSVM
// indices are names in the default namespace. Numbers are read with
// std::from_chars; a value of 0 adds nothing and is skipped.
#ifndef ADALINE_DATA_PARSER_H_
#define ADALINE_DATA_PARSER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/interactions.h"
#include "data/example_block.h"

namespace adaline {

enum class Format { kVw, kLibsvm };

absl::StatusOr<Format> ParseFormat(absl::string_view name);
// LIBSVM for names ending .libsvm, .svm or .svmlight (before any .gz), VW
// otherwise.
Format GuessFormat(absl::string_view path);

struct ParseOptions {
  // Labels must be -1, 0 or 1 (logistic and hinge losses).
  bool binary_labels = true;
  // Lines without a label are errors (training) or unlabeled (prediction).
  bool require_label = true;
  bool bias = true;
  bool keep_names = false;
  // Crosses added to every example (VW's --interactions); the bias is
  // never crossed.
  Interactions interactions;
};

// Whether `line` holds only white space (space, \t, \r, \v, \f): such a
// line is no example, and readers neither parse nor count it.
bool IsBlankLine(absl::string_view line);

// Appends the example on `line` to `block`. A blank line adds nothing. On an
// error nothing is added and the message says what is wrong.
absl::Status ParseLine(Format format, absl::string_view line,
                       const ParseOptions& options, ExampleBlock* block);

}  // namespace adaline

#endif  // ADALINE_DATA_PARSER_H_
