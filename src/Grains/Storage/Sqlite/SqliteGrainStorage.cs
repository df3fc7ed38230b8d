using Orleans.Storage;

namespace CiTrigger.Grains.Storage.Sqlite;

/// <summary>
/// Orleans grain storage in <see cref="SqliteStore"/>, with optimistic concurrency: the ETag is a row
/// version, and a write whose version is not the stored one fails with an
/// <see cref="InconsistentStateException"/> instead of overwriting someone else's state. The state is
/// serialized before the call returns its task, so the grain may go on changing it meanwhile.
/// </summary>
public sealed class SqliteGrainStorage(SqliteStore store, IGrainStorageSerializer serializer) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var row = store.Read(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT etag, data FROM grain_state WHERE grain_id = $id AND state_name = $name";
            command.Parameters.AddWithValue("$id", grainId.ToString());
            command.Parameters.AddWithValue("$name", stateName);
            using var reader = command.ExecuteReader();
            return reader.Read() ? (ETag: reader.GetInt64(0), Data: (byte[])reader.GetValue(1)) : default((long ETag, byte[] Data)?);
        });
        if (row is { } found)
        {
            grainState.State = serializer.Deserialize<T>(new BinaryData(found.Data));
            grainState.ETag = found.ETag.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = serializer.Serialize(grainState.State).ToArray();
        var id = grainId.ToString();
        var expected = grainState.ETag is { } tag ? long.Parse(tag, System.Globalization.CultureInfo.InvariantCulture) : (long?)null;
        var written = await store.WriteAsync(w =>
        {
            var command = expected is null
                ? w.Command("INSERT INTO grain_state (grain_id, state_name, etag, data) VALUES ($id, $name, 1, $data) ON CONFLICT DO NOTHING")
                : w.Command("UPDATE grain_state SET etag = etag + 1, data = $data WHERE grain_id = $id AND state_name = $name AND etag = $etag");
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$name", stateName);
            command.Parameters.AddWithValue("$data", data);
            if (expected is { } etag)
            {
                command.Parameters.AddWithValue("$etag", etag);
            }

            return command.ExecuteNonQuery() == 1
                ? (expected ?? 0) + 1
                : throw new InconsistentStateException($"{stateName} of {id} was changed by another writer", "(stored)", grainState.ETag ?? "(none)");
        });
        grainState.ETag = written.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var id = grainId.ToString();
        await store.WriteAsync(w =>
        {
            var command = w.Command("DELETE FROM grain_state WHERE grain_id = $id AND state_name = $name");
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$name", stateName);
            return command.ExecuteNonQuery();
        });
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }
}
