// The `adaline` subcommands. Each reads its flags (cli/flags.h), prints what
// it did, and returns the process exit code.
#ifndef ADALINE_CLI_COMMANDS_H_
#define ADALINE_CLI_COMMANDS_H_

namespace adaline {

int RunTrain();
int RunPredict();
int RunInspect();
int RunGenerate();

// Prints "adaline: <message>" to stderr and returns the failure exit code.
int Fail(const char* command, const char* message);

}  // namespace adaline

#endif  // ADALINE_CLI_COMMANDS_H_
