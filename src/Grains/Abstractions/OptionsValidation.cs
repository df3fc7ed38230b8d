using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// The one convention for options in every assembly: bound to a section, checked when the host starts,
/// each problem one line naming its key.
/// </summary>
public static class OptionsValidation
{
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section, Func<T, IEnumerable<string>> validate)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new Validator<T>(validate));

        // Registered before the binding, so a value it cannot convert is reported by key before the binder throws.
        return services.AddOptions<T>()
            .Configure<IConfiguration>((_, configuration) =>
            {
                if (ConfigurationValues.Problems(configuration, section, typeof(T)).ToList() is { Count: > 0 } problems)
                {
                    throw new OptionsValidationException(section, typeof(T), problems);
                }
            })
            .BindConfiguration(section)
            .ValidateOnStart();
    }

    /// <summary>A comma-separated configuration value as its trimmed, non-empty items.</summary>
    public static IEnumerable<string> SplitList(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private sealed class Validator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var failures = validate(options).ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
