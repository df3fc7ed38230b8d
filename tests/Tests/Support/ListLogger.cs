using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Tests.Support;

/// <summary>A logger that keeps what it is told, so a test can check that a failure was reported.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<LogEntry> entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        entries.Enqueue(new LogEntry(logLevel, eventId.Id, formatter(state, exception), exception));
}

public sealed record LogEntry(LogLevel Level, int EventId, string Message, Exception? Error);
