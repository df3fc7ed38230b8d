using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace CiTrigger.Tests.Ui;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's chromedriver (both installed by test.sh). Paths
/// are given, so Selenium Manager never looks for or downloads anything; chromedriver listens on a
/// loopback port from <see cref="FreePorts"/> and is stopped with the driver.
/// </summary>
public sealed class Browser : IDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string DriverPath = "/usr/bin/chromedriver";

    private readonly ChromeDriverService service;
    private readonly string profile;

    private Browser(ChromeDriverService service, ChromeDriver driver, string profile)
    {
        this.service = service;
        Driver = driver;
        this.profile = profile;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Where screenshots go: beside the test assembly, for people to look at after a run.</summary>
    public static string Screenshots { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    public static Browser Start()
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} or {DriverPath} is missing; ./test.sh installs them (apt-get install chromium chromium-driver)");
        }

        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.Port = FreePorts.Next();
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var profile = Directory.CreateTempSubdirectory("citrigger-chromium-").FullName;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--window-size=1366,900", "--user-data-dir=" + profile, "--lang=en-US");
        try
        {
            return new Browser(service, new ChromeDriver(service, options, TimeSpan.FromSeconds(60)), profile);
        }
        catch
        {
            service.Dispose();
            throw;
        }
    }

    public void Open(Uri address) => Driver.Navigate().GoToUrl(address);

    /// <summary>
    /// Clicks what <paramref name="target"/> finds (a form's button, a link) and waits until the page it loads
    /// has replaced the current one: a click returns before a form's answer arrives, and reading the page at
    /// once may read the old one.
    /// </summary>
    public async Task FollowAsync(By target)
    {
        var current = Driver.FindElement(By.TagName("html"));
        Driver.FindElement(target).Click();
        await Eventually.Until(() => IsStale(current) && Script("return document.readyState;") as string == "complete",
            TimeSpan.FromSeconds(20), $"the page {target} leads to");
    }

    private static bool IsStale(IWebElement element)
    {
        try
        {
            _ = element.Enabled;
            return false;
        }
        catch (StaleElementReferenceException)
        {
            return true;
        }
        catch (UnknownErrorException e) when (e.Message.Contains("does not belong to the document", StringComparison.Ordinal))
        {
            // Chromium's answer for an element of a document that is being replaced (seen in CI with 156.0.8078.129).
            return true;
        }
    }

    /// <summary>Writes a screenshot of the current page as <paramref name="name"/>.png; returns its path.</summary>
    public string Screenshot(string name)
    {
        var path = Path.Combine(Screenshots, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    /// <summary>Captures the whole page, not only the window: the window is made as tall as the page first.</summary>
    public string FullPageScreenshot(string name, int width)
    {
        var height = Convert.ToInt32(Driver.ExecuteScript("return Math.ceil(document.documentElement.scrollHeight)"), System.Globalization.CultureInfo.InvariantCulture);
        Driver.Manage().Window.Size = new System.Drawing.Size(width, Math.Min(Math.Max(height + 120, 400), 4000));
        try
        {
            return Screenshot(name);
        }
        finally
        {
            Driver.Manage().Window.Size = new System.Drawing.Size(1366, 900);
        }
    }

    public object? Script(string script) => Driver.ExecuteScript(script);

    /// <summary>What axe-core finds on the current page against WCAG 2.0 and 2.1, A and AA, each as "rule (targets)".</summary>
    public IReadOnlyList<string> AxeViolations()
    {
        Script(Axe.Value);
        var found = (string)Driver.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
              .then(r => done(JSON.stringify(r.violations.map(v => v.id + " (" + v.nodes.map(n => n.target.join(" ")).join(", ") + ")"))))
              .catch(e => done(JSON.stringify(["axe failed: " + e])));
            """)!;
        return System.Text.Json.JsonSerializer.Deserialize<string[]>(found)!;
    }

    private static readonly Lazy<string> Axe = new(() => new Deque.AxeCore.Commons.BundledAxeScriptProvider().GetScript());

    public IReadOnlyList<string> Texts(string css) => [.. Driver.FindElements(By.CssSelector(css)).Select(e => e.Text)];

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        service.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be letting go of its profile; the temporary directory is left behind then.
        }
    }
}
