using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// Which object states may produce which check conclusion for which event, for every run kind the service
/// follows: a row per kind and situation. A conclusion comes only from an object this event started, in a
/// namespace a list covered, never from an object an earlier event left or a newer event took over. A new
/// run kind gets every row at once.
/// </summary>
public class RunIntegrityTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    public enum Situation
    {
        /// <summary>This event's object finished successfully.</summary>
        OwnObjectSucceeded,

        /// <summary>This event's object failed.</summary>
        OwnObjectFailed,

        /// <summary>This event's object was deleted before it finished.</summary>
        OwnObjectDeleted,

        /// <summary>The object of the same name reported finished, but for an earlier delivery.</summary>
        EarlierDeliverysStatus,

        /// <summary>The object runs in an allowed namespace; a list of the home namespace lacks it.</summary>
        OtherNamespaceListedAtHome,

        /// <summary>The object runs in an allowed namespace; the list of that namespace shows it succeeded.</summary>
        OtherNamespaceListedThere,

        /// <summary>A newer event of the ref applied the same object and cancelled this run.</summary>
        TakenOverByNewerEvent,
    }

    public static TheoryData<string, string, Situation, string> Rows()
    {
        var expected = new Dictionary<Situation, string>
        {
            [Situation.OwnObjectSucceeded] = "success",
            [Situation.OwnObjectFailed] = "failure",
            [Situation.OwnObjectDeleted] = "cancelled",
            [Situation.EarlierDeliverysStatus] = "running",
            [Situation.OtherNamespaceListedAtHome] = "running",
            [Situation.OtherNamespaceListedThere] = "success",
            [Situation.TakenOverByNewerEvent] = "cancelled, not stopped",
        };
        var rows = new TheoryData<string, string, Situation, string>();
        foreach (var (group, kind) in RunKinds.All.Select(k => (k.Group, k.Kind)))
        {
            foreach (var (situation, conclusion) in expected)
            {
                rows.Add(group, kind, situation, conclusion);
            }
        }

        return rows;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void A_check_concludes_only_from_what_this_events_own_object_did(string group, string kind, Situation situation, string conclusion)
    {
        var apiVersion = group + "/v1";
        var home = new AppliedObject(apiVersion, kind, "ci", "ci-abc12", "created");
        var builds = home with { Namespace = "builds" };
        var run = RunBook.Start([situation is Situation.OtherNamespaceListedAtHome or Situation.OtherNamespaceListedThere ? builds : home], Start)!;
        RunObjectState Report(AppliedObject o, RunResult result, string delivery = "d2") =>
            new(delivery, "octo/app", "refs/heads/main", o.ApiVersion, o.Kind, o.Namespace, o.Name, result);
        var later = Start.AddHours(1);

        var after = situation switch
        {
            Situation.OwnObjectSucceeded => RunBook.Observe(run, Report(home, RunResult.Success), later),
            Situation.OwnObjectFailed => RunBook.Observe(run, Report(home, RunResult.Failure), later),
            Situation.OwnObjectDeleted => RunBook.Listed(run, new RunListScope(apiVersion, kind, "ci"), [], missingIsDeleted: true, later),
            Situation.EarlierDeliverysStatus => RunBook.Observe(run, Report(home, RunResult.Success, delivery: "d1") with { Name = "ci-other" }, later),
            Situation.OtherNamespaceListedAtHome => RunBook.Listed(run, new RunListScope(apiVersion, kind, "ci"), [], missingIsDeleted: true, later),
            Situation.OtherNamespaceListedThere => RunBook.Listed(run, new RunListScope(apiVersion, kind, "builds"), [Report(builds, RunResult.Success)], missingIsDeleted: true, later),
            _ => RunBook.Cancel(run, "superseded by d3", later, RunBook.Start([home], later)),
        } ?? run;

        var word = RunResults.Word(after.Result)
            + (situation == Situation.TakenOverByNewerEvent && !RunBook.ToStop(after).Any() ? ", not stopped" : "");
        Assert.Equal(conclusion, word);
    }

    public static TheoryData<string, string> Kinds()
    {
        var rows = new TheoryData<string, string>();
        foreach (var (group, kind) in RunKinds.All.Select(k => (k.Group, k.Kind)))
        {
            rows.Add(group, kind);
        }

        return rows;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_run_kind_with_a_fixed_name_is_refused_because_its_old_status_would_become_the_new_events_result(string group, string kind)
    {
        var policy = new ManifestPolicy(new ManifestOptions());
        var named = JsonNode.Parse($$$"""{"apiVersion": "{{{group}}}/v1", "kind": "{{{kind}}}", "metadata": {"name": "build-main"}}""")!.AsObject();
        var generated = JsonNode.Parse($$$"""{"apiVersion": "{{{group}}}/v1", "kind": "{{{kind}}}", "metadata": {"generateName": "build-main-"}}""")!.AsObject();

        var refusal = Assert.Throws<ManifestException>(() => policy.Check(named, 0, namespaced: true));

        Assert.Equal($"document 0 ({kind} build-main) is a run with a fixed metadata.name: every event must start a new run, so give it metadata.generateName (for example 'build-main-') instead", refusal.Message);
        Assert.Equal("build-main-", policy.Check(generated, 0, namespaced: true).GenerateName);
    }
}
