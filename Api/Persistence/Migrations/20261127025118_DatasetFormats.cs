using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Experiments.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class DatasetFormats : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Dtype",
                table: "Datasets",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "text");

            migrationBuilder.AddColumn<string>(
                name: "FileName",
                table: "Datasets",
                type: "TEXT",
                maxLength: 260,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "Preprocessing",
                table: "Datasets",
                type: "TEXT",
                nullable: false,
                defaultValue: "{\"scale\":null,\"standardize\":false,\"reshape\":null,\"mean\":null,\"std\":null}");

            migrationBuilder.AddColumn<int>(
                name: "SplitSeed",
                table: "Datasets",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "SplitSource",
                table: "Datasets",
                type: "TEXT",
                maxLength: 20,
                nullable: false,
                defaultValue: "HeldOut");

            migrationBuilder.AddColumn<long>(
                name: "StoredBytes",
                table: "Datasets",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "StoredSampleShape",
                table: "Datasets",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<int>(
                name: "TargetSize",
                table: "Datasets",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddColumn<double>(
                name: "TargetStatistics_Max",
                table: "Datasets",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "TargetStatistics_Mean",
                table: "Datasets",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "TargetStatistics_Min",
                table: "Datasets",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "TargetStatistics_Std",
                table: "Datasets",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "TestFraction",
                table: "Datasets",
                type: "REAL",
                nullable: true);

            // Datasets imported before this migration are CSV files without preprocessing: stored as they are seen.
            migrationBuilder.Sql("UPDATE Datasets SET StoredSampleShape = SampleShape;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Dtype",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "FileName",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "Preprocessing",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "SplitSeed",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "SplitSource",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "StoredBytes",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "StoredSampleShape",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "TargetSize",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "TargetStatistics_Max",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "TargetStatistics_Mean",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "TargetStatistics_Min",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "TargetStatistics_Std",
                table: "Datasets");

            migrationBuilder.DropColumn(
                name: "TestFraction",
                table: "Datasets");
        }
    }
}
