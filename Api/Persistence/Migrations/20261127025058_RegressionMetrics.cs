using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Experiments.Api.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RegressionMetrics : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<double>(
                name: "TrainAccuracy",
                table: "EpochMetrics",
                type: "REAL",
                nullable: true,
                oldClrType: typeof(double),
                oldType: "REAL");

            migrationBuilder.AlterColumn<double>(
                name: "TestAccuracy",
                table: "EpochMetrics",
                type: "REAL",
                nullable: true,
                oldClrType: typeof(double),
                oldType: "REAL");

            migrationBuilder.AddColumn<double>(
                name: "TestMae",
                table: "EpochMetrics",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "TestMse",
                table: "EpochMetrics",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "TestR2",
                table: "EpochMetrics",
                type: "REAL",
                nullable: true);

            // Datasets imported before regression existed are classification datasets: one target per sample.
            migrationBuilder.AddColumn<int>(
                name: "TargetSize",
                table: "Datasets",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TestMae",
                table: "EpochMetrics");

            migrationBuilder.DropColumn(
                name: "TestMse",
                table: "EpochMetrics");

            migrationBuilder.DropColumn(
                name: "TestR2",
                table: "EpochMetrics");

            migrationBuilder.DropColumn(
                name: "TargetSize",
                table: "Datasets");

            migrationBuilder.AlterColumn<double>(
                name: "TrainAccuracy",
                table: "EpochMetrics",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0,
                oldClrType: typeof(double),
                oldType: "REAL",
                oldNullable: true);

            migrationBuilder.AlterColumn<double>(
                name: "TestAccuracy",
                table: "EpochMetrics",
                type: "REAL",
                nullable: false,
                defaultValue: 0.0,
                oldClrType: typeof(double),
                oldType: "REAL",
                oldNullable: true);
        }
    }
}
