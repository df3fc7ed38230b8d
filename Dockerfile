# syntax=docker/dockerfile:1
# k8s-webhook-handler: one process = Orleans silo + HTTP gateway.
#   docker build -t k8s-webhook-handler .

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /source
# .editorconfig carries analyzer severities the build enforces (TreatWarningsAsErrors), so it goes in too.
COPY global.json Directory.Build.props Directory.Packages.props Orleans.sln .editorconfig ./
COPY src/ src/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish src/Silo -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
# Only used by the embedded (single-silo, SQLite) mode outside Kubernetes: ./data must be writable.
RUN mkdir -p /app/data && chown "$APP_UID" /app/data
ENV ASPNETCORE_URLS=http://+:8080
# 8080 HTTP (webhooks, health, metrics, admin), 11111 silo-to-silo, 30000 Orleans client gateway.
EXPOSE 8080 11111 30000
# The non-root "app" user (UID 1654) that Microsoft's .NET images define.
USER $APP_UID
ENTRYPOINT ["dotnet", "Silo.dll"]
