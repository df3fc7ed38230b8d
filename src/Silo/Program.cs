using CiTrigger.Silo;
using CiTrigger.Silo.Cli;

return args is [var command, ..] && Commands.IsCommand(command)
    ? await Commands.RunAsync(args, Console.Out, Console.Error)
    : await TriggerApp.RunAsync(args);
