namespace CiTrigger.Grains.Manifests;

/// <summary>
/// The path globs of a pipeline's rules (<c>on-branch</c>, <c>on-tag</c>, <c>on-path-change</c>): <c>*</c> is any run of
/// characters but '/', <c>**</c> any run at all, <c>**/</c> also none (so <c>**/*.md</c> matches <c>a.md</c>), <c>?</c> one
/// character but '/'; everything else stands for itself, case-sensitively, and the whole path must match. A glob comes
/// from a repository file, so it is never made into a regular expression: it is run as a small automaton over the path,
/// in at most (glob length × path length) steps whatever it holds.
/// </summary>
public static class Glob
{
    private enum Kind
    {
        Literal,
        One,
        Star,
        GlobStar,
        GlobStarSlash,
    }

    private readonly record struct Token(Kind Kind, char Char);

    public static bool IsMatch(string glob, string path)
    {
        ArgumentNullException.ThrowIfNull(glob);
        ArgumentNullException.ThrowIfNull(path);
        var tokens = Tokens(glob);

        // states[i]: the first i tokens can match the path read so far. Tokens that may match nothing let a state
        // through to the next one; that only ever moves forward, so one sweep in order closes a set.
        var states = new bool[tokens.Count + 1];
        var next = new bool[tokens.Count + 1];
        states[0] = true;
        Close(tokens, states);
        foreach (var c in path)
        {
            Array.Clear(next);
            var any = false;
            for (var i = 0; i < tokens.Count; i++)
            {
                if (!states[i])
                {
                    continue;
                }

                var token = tokens[i];
                switch (token.Kind)
                {
                    case Kind.Literal when c == token.Char:
                    case Kind.One when c != '/':
                        next[i + 1] = any = true;
                        break;
                    case Kind.Star when c != '/':
                    case Kind.GlobStar:
                        next[i] = any = true;
                        break;
                    case Kind.GlobStarSlash:
                        next[i] = any = true;
                        if (c == '/')
                        {
                            next[i + 1] = true;
                        }

                        break;
                }
            }

            if (!any)
            {
                return false;
            }

            Close(tokens, next);
            (states, next) = (next, states);
        }

        return states[tokens.Count];
    }

    private static void Close(List<Token> tokens, bool[] states)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            if (states[i] && tokens[i].Kind is Kind.Star or Kind.GlobStar or Kind.GlobStarSlash)
            {
                states[i + 1] = true;
            }
        }
    }

    private static List<Token> Tokens(string glob)
    {
        var tokens = new List<Token>(glob.Length);
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '?')
            {
                tokens.Add(new Token(Kind.One, c));
            }
            else if (c != '*')
            {
                tokens.Add(new Token(Kind.Literal, c));
            }
            else if (i + 1 < glob.Length && glob[i + 1] == '*')
            {
                // A run of three or more stars is one "**"; "**/" may also match no directory at all.
                while (i + 1 < glob.Length && glob[i + 1] == '*')
                {
                    i++;
                }

                if (i + 1 < glob.Length && glob[i + 1] == '/')
                {
                    i++;
                    tokens.Add(new Token(Kind.GlobStarSlash, '/'));
                }
                else
                {
                    tokens.Add(new Token(Kind.GlobStar, c));
                }
            }
            else if (tokens.Count == 0 || tokens[^1].Kind is not (Kind.Star or Kind.GlobStar))
            {
                tokens.Add(new Token(Kind.Star, c));
            }
        }

        return tokens;
    }
}
